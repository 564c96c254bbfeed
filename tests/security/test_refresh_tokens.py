"""Refresh tokens: hashed at rest, rotated on use, reuse kills the family, logout revokes."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from tests.support.identity import IdentityKit
from workplace_roleplay.domain.identity.refresh_tokens import token_hash
from workplace_roleplay.errors import InvalidToken, SessionRevoked, TokenExpired
from workplace_roleplay.ports import EXPIRES_AT


async def test_anonymous_sign_in_creates_a_user_and_a_hashed_refresh_token(kit: IdentityKit) -> None:
    signed = await kit.identity.sign_in_anonymously()
    assert signed.created
    assert signed.refresh_token
    profile = await kit.identity.profile(signed.user_id)
    assert profile.kind == "anonymous"
    assert kit.identity.verify_access(signed.access_token).user_id == signed.user_id
    doc = await kit.store.get(f"refresh_tokens/{token_hash(signed.refresh_token)}")
    assert doc is not None
    assert doc["family"] == signed.family_id
    assert doc["status"] == "active"
    assert signed.refresh_token not in json.dumps(await kit.dump())  # never stored in clear


async def test_refresh_rotates_on_every_use(kit: IdentityKit) -> None:
    first = await kit.identity.sign_in_anonymously()
    assert first.refresh_token
    kit.clock.advance(60)
    second = await kit.identity.refresh(first.refresh_token)
    assert second.user_id == first.user_id
    assert second.family_id == first.family_id
    assert second.refresh_token not in (None, first.refresh_token)
    assert second.access_token != first.access_token
    old = await kit.store.get(f"refresh_tokens/{token_hash(first.refresh_token)}")
    assert old is not None
    assert old["status"] == "rotated"
    assert old["replaced_by"] == token_hash(second.refresh_token or "")


async def test_reuse_after_rotation_revokes_the_whole_family(
    kit: IdentityKit, caplog: pytest.LogCaptureFixture
) -> None:
    first = await kit.identity.sign_in_anonymously()
    assert first.refresh_token
    kit.clock.advance(60)
    second = await kit.identity.refresh(first.refresh_token)
    assert second.refresh_token
    kit.clock.advance(kit.grace_s + 1)
    with caplog.at_level(logging.WARNING, logger="workplace_roleplay.security"), pytest.raises(SessionRevoked):
        await kit.identity.refresh(first.refresh_token)  # the thief (or the victim) replays it
    events = [r for r in caplog.records if getattr(r, "security_event", "") == "refresh_token_reuse"]
    assert len(events) == 1
    assert getattr(events[0], "family_id", "") == first.family_id
    # The newest token of the family is dead too.
    with pytest.raises(SessionRevoked):
        await kit.identity.refresh(second.refresh_token)


async def test_parallel_requests_within_the_grace_window_do_not_sign_out(kit: IdentityKit) -> None:
    first = await kit.identity.sign_in_anonymously()
    assert first.refresh_token
    winner = await kit.identity.refresh(first.refresh_token)
    kit.clock.advance(kit.grace_s - 1)
    loser = await kit.identity.refresh(first.refresh_token)
    assert loser.refresh_token is None  # keeps the cookie the winner set
    assert kit.identity.verify_access(loser.access_token).family_id == first.family_id
    assert winner.refresh_token
    assert (await kit.identity.refresh(winner.refresh_token)).refresh_token


async def test_logout_revokes_the_family(kit: IdentityKit) -> None:
    signed = await kit.identity.sign_in_anonymously()
    assert signed.refresh_token
    rotated = await kit.identity.refresh(signed.refresh_token)
    assert rotated.refresh_token
    await kit.identity.logout(refresh_token=rotated.refresh_token)
    with pytest.raises(SessionRevoked):
        await kit.identity.refresh(rotated.refresh_token)
    await kit.identity.logout(refresh_token=rotated.refresh_token)  # idempotent


async def test_expired_and_unknown_refresh_tokens_are_refused(kit: IdentityKit) -> None:
    signed = await kit.identity.sign_in_anonymously()
    assert signed.refresh_token
    with pytest.raises(InvalidToken):
        await kit.identity.refresh("not-a-token-we-issued")
    with pytest.raises(InvalidToken):
        await kit.identity.refresh("")
    kit.clock.advance(7 * 24 * 3600 + 1)
    # expires_at is the store's TTL field: SQLite treats the expired document as deleted at once (unknown
    # token); Firestore deletes it within a day, and until then the repository's own check answers.
    expected = InvalidToken if kit.store.backend == "sqlite" else TokenExpired
    with pytest.raises(InvalidToken) as refused:
        await kit.identity.refresh(signed.refresh_token)
    assert type(refused.value) is expected


async def test_families_are_independent(kit: IdentityKit) -> None:
    phone = await kit.identity.sign_in_existing("2b7c7f0e-8d7e-4b8a-9a7c-3c1f1d6f0a11")
    laptop = await kit.identity.sign_in_existing("2b7c7f0e-8d7e-4b8a-9a7c-3c1f1d6f0a11")
    assert phone.created
    assert not laptop.created
    assert phone.refresh_token
    assert laptop.refresh_token
    await kit.identity.logout(family_id=phone.family_id)
    with pytest.raises(SessionRevoked):
        await kit.identity.refresh(phone.refresh_token)
    assert (await kit.identity.refresh(laptop.refresh_token)).user_id == laptop.user_id


async def test_resume_continues_a_live_sign_in_and_replaces_a_dead_one(kit: IdentityKit) -> None:
    signed = await kit.identity.sign_in_anonymously()
    assert signed.refresh_token
    resumed = await kit.identity.resume_or_sign_in(signed.refresh_token)
    assert resumed.user_id == signed.user_id
    assert not resumed.created
    await kit.identity.logout(family_id=signed.family_id)
    fresh = await kit.identity.resume_or_sign_in(resumed.refresh_token)
    assert fresh.created
    assert fresh.user_id != signed.user_id
    assert (await kit.identity.resume_or_sign_in(None)).created


async def test_concurrent_refreshes_of_one_token_rotate_it_exactly_once(kit: IdentityKit) -> None:
    signed = await kit.identity.sign_in_anonymously()
    assert signed.refresh_token
    results = await asyncio.gather(*(kit.identity.refresh(signed.refresh_token) for _ in range(4)))
    successors = [r.refresh_token for r in results if r.refresh_token is not None]
    assert len(successors) == 1  # the store transaction lets one rotation win; the others are races
    assert all(r.user_id == signed.user_id for r in results)
    assert (await kit.identity.refresh(successors[0])).refresh_token  # the family is alive


async def test_expired_refresh_tokens_are_purged(kit: IdentityKit) -> None:
    old = await kit.identity.sign_in_anonymously()
    kit.clock.advance(6 * 24 * 3600)
    young = await kit.identity.sign_in_anonymously()
    kit.clock.advance(2 * 24 * 3600)  # the first token is now past its 7 days, the second is not
    # The SQLite store hides (and purges by itself) expired documents, so only the others leave one to purge.
    assert await kit.identity.refresh_tokens.purge_expired() == (0 if kit.store.backend == "sqlite" else 1)
    assert await kit.identity.refresh_tokens.family_of(old.refresh_token or "") is None
    assert await kit.identity.refresh_tokens.family_of(young.refresh_token or "") is not None
    assert await kit.identity.refresh_tokens.purge_expired() == 0


async def test_refreshes_purge_expired_tokens_along_the_way(kit: IdentityKit, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("workplace_roleplay.domain.identity.refresh_tokens.PURGE_ONE_IN", 1)
    stale = await kit.identity.sign_in_anonymously()
    kit.clock.advance(6 * 24 * 3600)
    live = await kit.identity.sign_in_anonymously()
    kit.clock.advance(2 * 24 * 3600)
    assert live.refresh_token
    await kit.identity.refresh(live.refresh_token)
    assert await kit.identity.refresh_tokens.family_of(stale.refresh_token or "") is None


async def test_tokens_and_families_carry_the_stores_expiry_field(kit: IdentityKit) -> None:
    """The reserved expires_at (a TTL field in Firestore): a token's lifetime; a family's newest token's."""
    first = await kit.identity.sign_in_anonymously()
    assert first.refresh_token
    assert first.refresh_expires_at
    token = await kit.store.get(f"refresh_tokens/{token_hash(first.refresh_token)}")
    family = await kit.store.get(f"refresh_families/{first.family_id}")
    assert token is not None
    assert family is not None
    assert token[EXPIRES_AT] == family[EXPIRES_AT] == first.refresh_expires_at
    kit.clock.advance(3600)
    second = await kit.identity.refresh(first.refresh_token)
    assert second.refresh_expires_at == first.refresh_expires_at + 3600
    family = await kit.store.get(f"refresh_families/{first.family_id}")
    assert family is not None
    assert family[EXPIRES_AT] == second.refresh_expires_at
