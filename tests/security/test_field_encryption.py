"""ALE: authenticated, key id beside every ciphertext, rotation without downtime, clear errors."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.fakes import FakeStore
from workplace_roleplay.adapters.field_crypto import AesGcmFieldCipher
from workplace_roleplay.adapters.sqlite_store import SqliteDocumentStore
from workplace_roleplay.domain.identity.encrypted_fields import CipherSealer, reencrypt_collection
from workplace_roleplay.errors import ConfigurationError, DecryptionFailed, UnknownEncryptionKey
from workplace_roleplay.ports import DocumentStore

K1, K2 = os.urandom(32), os.urandom(32)
TEXT = "課長、先ほどの資料に誤りがありました。申し訳ありません。"


def test_round_trip_with_the_key_id_beside_the_ciphertext() -> None:
    cipher = AesGcmFieldCipher(primary_kid="k1", keys={"k1": K1})
    sealed = cipher.encrypt(TEXT, aad="users/u1/conversations/c1/messages/m1")
    assert sealed["kid"] == "k1"
    assert TEXT not in sealed["ct"]
    assert cipher.decrypt(sealed, aad="users/u1/conversations/c1/messages/m1") == TEXT
    # Random nonces: the same text never gives the same ciphertext.
    assert cipher.encrypt(TEXT, aad="x")["ct"] != cipher.encrypt(TEXT, aad="x")["ct"]


def test_ciphertext_moved_to_another_record_does_not_decrypt() -> None:
    cipher = AesGcmFieldCipher(primary_kid="k1", keys={"k1": K1})
    sealed = cipher.encrypt(TEXT, aad="users/u1/memories/a")
    with pytest.raises(DecryptionFailed, match="failed authentication"):
        cipher.decrypt(sealed, aad="users/u2/memories/a")


def test_tampered_ciphertext_is_an_error_not_garbage() -> None:
    cipher = AesGcmFieldCipher(primary_kid="k1", keys={"k1": K1})
    sealed = cipher.encrypt(TEXT, aad="p")
    flipped = sealed["ct"][:-6] + ("A" if sealed["ct"][-6] != "A" else "B") + sealed["ct"][-5:]
    with pytest.raises(DecryptionFailed):
        cipher.decrypt({"kid": "k1", "ct": flipped}, aad="p")
    with pytest.raises(DecryptionFailed, match="truncated"):
        cipher.decrypt({"kid": "k1", "ct": "AAAA"}, aad="p")


def test_wrong_key_under_the_same_id_is_a_clear_error() -> None:
    sealed = AesGcmFieldCipher(primary_kid="k1", keys={"k1": K1}).encrypt(TEXT, aad="p")
    with pytest.raises(DecryptionFailed, match="wrong key"):
        AesGcmFieldCipher(primary_kid="k1", keys={"k1": K2}).decrypt(sealed, aad="p")


def test_missing_key_is_named() -> None:
    sealed = AesGcmFieldCipher(primary_kid="k1", keys={"k1": K1}).encrypt(TEXT, aad="p")
    with pytest.raises(UnknownEncryptionKey, match="'k1'"):
        AesGcmFieldCipher(primary_kid="k2", keys={"k2": K2}).decrypt(sealed, aad="p")


def test_bad_key_ring_is_refused_at_startup() -> None:
    with pytest.raises(ConfigurationError):
        AesGcmFieldCipher(primary_kid="k3", keys={"k1": K1})
    with pytest.raises(ConfigurationError):
        AesGcmFieldCipher(primary_kid="k1", keys={"k1": b"short"})


def test_sealer_refuses_plain_values() -> None:
    sealer = CipherSealer(AesGcmFieldCipher(primary_kid="k1", keys={"k1": K1}))
    sealed = sealer.seal(TEXT, context="c")
    assert sealer.open(sealed, context="c") == TEXT
    with pytest.raises(DecryptionFailed, match="not encrypted"):
        sealer.open("plain text written by someone else", context="c")


@pytest.fixture(params=["fake", "sqlite"])
async def doc_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DocumentStore]:
    store: DocumentStore = (
        FakeStore() if request.param == "fake" else await SqliteDocumentStore.open(tmp_path / "ale.sqlite3")
    )
    yield store
    await store.close()


async def test_rotation_key1_data_reads_under_key2_then_moves_to_key2(doc_store: DocumentStore) -> None:
    store = doc_store
    collection = "users/u1/conversations/c1/messages"
    before = AesGcmFieldCipher(primary_kid="k1", keys={"k1": K1})
    for i in range(3):
        path = f"{collection}/m{i}"
        await store.set(path, {"content": CipherSealer(before).seal(f"{TEXT}{i}", context=path), "role": "user"})

    # Deploy: k2 added and made primary; k1 stays in the ring, so old data still reads.
    during = AesGcmFieldCipher(primary_kid="k2", keys={"k2": K2, "k1": K1})
    sealer = CipherSealer(during)
    assert sealer.open((await store.get(f"{collection}/m0") or {})["content"], context=f"{collection}/m0") == (
        f"{TEXT}0"
    )
    await store.set(f"{collection}/m3", {"content": sealer.seal("new", context=f"{collection}/m3")})

    report = await reencrypt_collection(store, during, collection, {"content": lambda path: path})
    assert (report.scanned, report.rewritten, report.current, report.failed) == (4, 3, 1, [])
    again = await reencrypt_collection(store, during, collection, {"content": lambda path: path})
    assert again.rewritten == 0  # idempotent: safe to re-run until nothing moves

    # Deploy: k1 retired; everything still reads, all under k2, other fields untouched.
    after = CipherSealer(AesGcmFieldCipher(primary_kid="k2", keys={"k2": K2}))
    for i in range(3):
        doc = await store.get(f"{collection}/m{i}") or {}
        assert doc["content"]["kid"] == "k2"
        assert doc["role"] == "user"
        assert after.open(doc["content"], context=f"{collection}/m{i}") == f"{TEXT}{i}"


async def test_reencryption_reports_records_it_cannot_read() -> None:
    store = FakeStore()
    stranger = AesGcmFieldCipher(primary_kid="kx", keys={"kx": os.urandom(32)})
    await store.set("users/u1/memories/a", {"fact": dict(stranger.encrypt("x", aad="users/u1/memories/a"))})
    ring = AesGcmFieldCipher(primary_kid="k2", keys={"k2": K2})
    report = await reencrypt_collection(store, ring, "users/u1/memories", {"fact": lambda path: path})
    assert report.failed == ["users/u1/memories/a"]
    assert report.rewritten == 0
