"""Decoding legacy session bytes without trusting them.

Flask-Session's filesystem backend stores ``pickle.dumps(dict(session))`` (cachelib). Unpickling untrusted
bytes runs code, because a pickle may name any importable callable (``GLOBAL``/``STACK_GLOBAL`` opcodes,
resolved by ``find_class``) and call it (``REDUCE``). The legacy sessions hold only dict, list, str, int,
float, bool and None, which pickle writes with their own opcodes and never through ``find_class``; so
``RestrictedUnpickler.find_class`` refuses every name, before anything is imported or called. The result
is then checked to contain only those types.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import msgspec

from workplace_roleplay.errors import LegacySessionInvalid

MAX_RECORD_BYTES = 4 * 1024 * 1024  # the largest legacy session we accept (real ones are ~10 KB)
_MAX_DEPTH = 32


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that admits no globals at all (hence no classes, functions or reducers)."""

    def find_class(self, module: str, name: str) -> Any:
        raise LegacySessionInvalid(f"refused pickle global {module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        raise LegacySessionInvalid("refused pickle persistent id")


def safe_unpickle(data: bytes) -> Any:
    """Unpickle ``data`` admitting only the builtin types the legacy app stores."""
    if len(data) > MAX_RECORD_BYTES:
        raise LegacySessionInvalid(f"legacy record of {len(data)} bytes is too large")
    try:
        value = RestrictedUnpickler(io.BytesIO(data)).load()
    except LegacySessionInvalid:
        raise
    except Exception as exc:  # truncated or malformed pickles raise many different errors
        raise LegacySessionInvalid(f"unreadable pickle: {type(exc).__name__}") from None
    return check_plain(value)


def safe_msgpack(data: bytes) -> Any:
    """Decode Flask-Session's msgpack value (never falling back to pickle, unlike Flask-Session 0.8)."""
    if len(data) > MAX_RECORD_BYTES:
        raise LegacySessionInvalid(f"legacy record of {len(data)} bytes is too large")
    try:
        value = msgspec.msgpack.decode(data)
    except (msgspec.DecodeError, ValueError):
        raise LegacySessionInvalid("legacy value is not msgpack (a pickled value is refused)") from None
    return check_plain(value)


def check_plain(value: Any, depth: int = 0) -> Any:
    """``value`` with tuples turned into lists, if it holds only JSON-like builtins; else refuse it."""
    if depth > _MAX_DEPTH:
        raise LegacySessionInvalid("legacy value nested too deeply")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [check_plain(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise LegacySessionInvalid("legacy value has a non-string key")
        return {k: check_plain(v, depth + 1) for k, v in value.items()}
    raise LegacySessionInvalid(f"legacy value holds a {type(value).__name__}")
