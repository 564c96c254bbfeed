"""Whose TTS budget a request spends: the authenticated user, however they signed in."""

from __future__ import annotations

from workplace_roleplay.domain.identity.users import User
from workplace_roleplay.web.tts import budget_key


def test_the_budget_belongs_to_the_user_not_the_credential() -> None:
    assert budget_key(User("u-123", "bearer", "f-1")) == "user:u-123"
    assert budget_key(User("u-123", "cookie", "f-2")) == "user:u-123"
    assert budget_key(User("u-123", "legacy_session")) == "user:u-123"
