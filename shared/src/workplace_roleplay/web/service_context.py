"""A service's own startup objects (its context), typed at the point of use.

Each service defines one frozen dataclass holding what its startup builds beyond the shared
``Resources`` (the scenario catalog service, the legacy migration, ...), provides it once from its
startup hook, and its dependencies read it back by type. A missing or mistyped context is a wiring
error, never a silent ``None``.
"""

from __future__ import annotations

from typing import TypeVar

from fastapi import FastAPI
from starlette.requests import HTTPConnection

from workplace_roleplay.errors import ConfigurationError

T = TypeVar("T")


def provide_context(app: FastAPI, context: object) -> None:
    """Register the service's context (once, from its startup hook)."""
    app.state.service_context = context


def service_context(conn: HTTPConnection, kind: type[T]) -> T:
    """The service's context, checked to be a ``kind``."""
    context = getattr(conn.app.state, "service_context", None)
    if not isinstance(context, kind):
        raise ConfigurationError(f"this service provides no {kind.__name__} (see its startup in main.py)")
    return context
