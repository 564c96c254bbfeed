"""How sensitive text (message content, memories, report text) is sealed before it is stored.

The application-level encryption codec (ALE) lives with identity and security; the domain only needs
this two-method seam, so conversation code runs unchanged with the real codec or the plain one.
"""

from __future__ import annotations

from typing import Protocol

from workplace_roleplay.ports import JsonValue


class TextSealer(Protocol):
    """Seals text for storage and opens it again; ``context`` binds a ciphertext to its record."""

    def seal(self, text: str, *, context: str) -> JsonValue: ...

    def open(self, value: JsonValue, *, context: str) -> str: ...


class PlainSealer:
    """No encryption (unit tests and the embedded mode before keys are configured)."""

    def seal(self, text: str, *, context: str) -> JsonValue:
        return text

    def open(self, value: JsonValue, *, context: str) -> str:
        return value if isinstance(value, str) else str(value)
