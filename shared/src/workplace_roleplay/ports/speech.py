"""The text-to-speech port: text in, playable audio out."""

from __future__ import annotations

from typing import Protocol


class SpeechSynthesizer(Protocol):
    """Synthesizes speech; adapters translate their errors into ``ModelUnavailable`` subclasses."""

    async def close(self) -> None:
        """Close the clients (at shutdown)."""
        ...

    async def synthesize(self, model: str, text: str, voice: str) -> tuple[bytes, str]:
        """Audio of ``text`` spoken by ``voice`` on ``model``: (bytes, MIME type), e.g. WAV."""
        ...
