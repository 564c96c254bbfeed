"""Strict ASCII grammars of the header values and path parameters we parse.

``str.isdigit``/``isalnum`` and ``\\d`` accept far more than ASCII (``"\\xb2".isdigit()`` is true and
``int("\\xb2")`` raises), so every parser here matches explicit ASCII classes and answers "no" with
``None`` or a 4xx, never an exception. Property tests: tests/unit/web/test_header_grammars.py.
"""

from __future__ import annotations

import re

from fastapi.exceptions import RequestValidationError
from starlette.convertors import PathConvertor
from starlette.requests import HTTPConnection

# Ids we mint ("c" + hex, "t" + hex, "m" + hex, uuid4 for users) and legacy ids all fit this.
PATH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
PATH_ID_PATTERN = f"^{PATH_ID.pattern}$"
# ``{name:path}`` parameters (static asset names): ASCII segments, no "." or ".." segment.
PATH_FILE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}(?:/[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}){0,7}")
PATH_FILE_PATTERN = f"^{PATH_FILE.pattern}$"
# SSE event ids: ``{turn_id}.{n}``.
EVENT_ID = re.compile(r"([A-Za-z0-9]{1,64})\.([0-9]{1,12})")
DECIMAL = re.compile(r"[0-9]{1,18}")


def parse_event_id_value(value: str | None) -> tuple[str, int] | None:
    """``{turn_id}.{n}`` -> (turn_id, n); None for anything else."""
    if not value:
        return None
    match = EVENT_ID.fullmatch(value.strip(" \t"))
    if match is None:
        return None
    return match.group(1), int(match.group(2))


def parse_content_length(value: str | None) -> int | None:
    """A declared ``Content-Length`` (ASCII digits), else None (the body limit still counts the bytes)."""
    if value is None:
        return None
    stripped = value.strip(" \t")
    return int(stripped) if DECIMAL.fullmatch(stripped) else None


def check_path_value(name: str, value: object, *, file_path: bool = False) -> None:
    """Raise a 422 (with ``details``) unless ``value`` is an ASCII id (or, for ``{x:path}``, file path)."""
    grammar, pattern = (PATH_FILE, PATH_FILE_PATTERN) if file_path else (PATH_ID, PATH_ID_PATTERN)
    if isinstance(value, str) and grammar.fullmatch(value):
        return
    raise RequestValidationError(
        [
            {
                "loc": ("path", name),
                "msg": f"String should match pattern '{pattern}'",
                "type": "string_pattern_mismatch",
                "input": value,
            }
        ]
    )


async def strict_path_params(connection: HTTPConnection) -> None:
    """App-wide dependency: every path parameter of every route is an ASCII id (``{x:path}``: a file path)."""
    route = connection.scope.get("route")
    convertors = getattr(route, "param_convertors", {})
    for name, value in connection.path_params.items():
        check_path_value(name, value, file_path=isinstance(convertors.get(name), PathConvertor))
