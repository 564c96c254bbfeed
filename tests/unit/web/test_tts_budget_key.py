"""Whose TTS budget a request spends: the signed-in user, else the peer address (never a raw header)."""

from __future__ import annotations

from starlette.requests import Request

from workplace_roleplay.web.tts import budget_key


def _request(*, user_id: str | None = None, forwarded: str = "") -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    request = Request({"type": "http", "headers": headers, "client": ("203.0.113.7", 5555), "state": {}})
    if user_id is not None:
        request.state.user_id = user_id
    return request


def test_signed_in_users_spend_their_own_budget() -> None:
    assert budget_key(_request(user_id="u-123")) == "user:u-123"


def test_anonymous_callers_spend_their_address_budget_and_cannot_spoof_it() -> None:
    assert budget_key(_request()) == "ip:203.0.113.7"
    assert budget_key(_request(forwarded="198.51.100.1")) == "ip:203.0.113.7"
