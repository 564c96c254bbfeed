"""Settings at process start: an invalid value stops startup with one clear line, not a traceback."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings

from workplace_roleplay.errors import ConfigurationError

S = TypeVar("S", bound=BaseSettings)
_SHOWN_VALUE_CHARS = 40
_SEE = "(see the settings table in README.md)"


class InvalidSettings(SystemExit):
    """Exit status 1 with a one-line message on stderr (Python prints a SystemExit's text alone)."""


def load_settings(cls: type[S]) -> S:
    """``cls()`` from the environment; raises ``InvalidSettings`` naming every bad setting."""
    try:
        return cls()
    except ValidationError as exc:
        problems = "; ".join(_describe(cls, error) for error in exc.errors())
        raise InvalidSettings(f"invalid setting(s), the service did not start: {problems} {_SEE}") from None
    except ConfigurationError as exc:
        raise InvalidSettings(f"invalid setting(s), the service did not start: {exc} {_SEE}") from None


def _describe(cls: type[BaseSettings], error: Any) -> str:
    name = ".".join(str(part) for part in error.get("loc", ())) or "(settings)"
    message = str(error.get("msg", "invalid")).replace("\n", " ")
    field = cls.model_fields.get(name)
    value = error.get("input")
    secret = isinstance(value, SecretStr) or (field is not None and "SecretStr" in repr(field.annotation))
    if secret or value is None or isinstance(value, dict):
        return f"{name}: {message}"
    shown = str(value).replace("\n", " ")[:_SHOWN_VALUE_CHARS]
    return f"{name}={shown}: {message}"
