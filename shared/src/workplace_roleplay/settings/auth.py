"""Identity and web-security settings (tokens, CSRF, cookies, rate limits, encryption keys)."""

from __future__ import annotations

from pydantic_settings import BaseSettings


class AuthSettings(BaseSettings):
    """Identity and security settings every service needs to verify callers."""
