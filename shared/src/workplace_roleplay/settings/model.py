"""Language-model settings (Gemini access, routing, timeouts, caches, TTS)."""

from __future__ import annotations

from pydantic_settings import BaseSettings


class ModelSettings(BaseSettings):
    """How services reach the language model."""
