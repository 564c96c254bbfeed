"""Strict ASCII grammars of the header values and path parameters we parse.

``str.isdigit``/``isalnum`` and ``\\d`` accept far more than ASCII (``"\\xb2".isdigit()`` is true and
``int("\\xb2")`` raises), so every parser here matches explicit ASCII classes and answers "no" with
``None`` or a 4xx, never an exception. Property tests: tests/unit/web/test_header_grammars.py.
"""

from __future__ import annotations

import re

from fastapi.exceptions import RequestValidationError
from starlette.requests import HTTPConnection

# Ids we mint ("c" + hex, "t" + hex, "m" + hex, uuid4 for users) and legacy ids all fit this.
PATH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
PATH_ID_PATTERN = f"^{PATH_ID.pattern}$"
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


def check_path_value(name: str, value: object) -> None:
    """Raise a 422 (with ``details``) unless ``value`` is an ASCII id."""
    if isinstance(value, str) and PATH_ID.fullmatch(value):
        return
    raise RequestValidationError(
        [
            {
                "loc": ("path", name),
                "msg": f"String should match pattern '{PATH_ID_PATTERN}'",
                "type": "string_pattern_mismatch",
                "input": value,
            }
        ]
    )


async def strict_path_params(connection: HTTPConnection) -> None:
    """App-wide dependency: every path parameter of every route is an ASCII id."""
    for name, value in connection.path_params.items():
        check_path_value(name, value)
