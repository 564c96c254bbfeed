"""The readers over sessions written by real Flask + Flask-Session, and what they refuse."""

from __future__ import annotations

import asyncio
import hashlib
import pickle
import struct
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support.legacy import LEGACY_SECRET, cookie_legacy, filesystem_legacy, realistic_session, redis_legacy
from workplace_roleplay.adapters.legacy_filesystem import FilesystemLegacySource
from workplace_roleplay.adapters.legacy_flask_cookie import FlaskCookieLegacySource
from workplace_roleplay.adapters.legacy_pickle import safe_msgpack, safe_unpickle
from workplace_roleplay.adapters.legacy_redis import RedisLegacySource
from workplace_roleplay.errors import LegacySessionInvalid

UID = "ecd0938e-1430-4046-92aa-5385295c708a"


class OpensAFile:
    """A pickle payload that would create a file when loaded (a stand-in for any code execution)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.path), "w"))


def test_a_code_running_pickle_is_refused_without_running(tmp_path: Path) -> None:
    # The payload is real: the ordinary unpickler creates the file.
    proof = tmp_path / "proof"
    pickle.loads(pickle.dumps(OpensAFile(proof), protocol=5)).close()  # noqa: S301
    assert proof.exists()
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"user_id": UID, "x": OpensAFile(marker)}, protocol=5)
    with pytest.raises(LegacySessionInvalid, match=r"refused pickle global .*open"):
        safe_unpickle(payload)
    assert not marker.exists()


async def test_the_filesystem_reader_refuses_a_malicious_session_file(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    sid = "A" * 43
    name = hashlib.sha256(f"session:{sid}".encode()).hexdigest()
    raw = struct.pack("<I", 0) + pickle.dumps({"x": OpensAFile(marker)}, protocol=5)
    (tmp_path / name).write_bytes(raw)
    with pytest.raises(LegacySessionInvalid):
        await FilesystemLegacySource(tmp_path).read(sid, now=time.time())
    assert not marker.exists()


@pytest.mark.parametrize("value", [b"\x80\x05", b"not a pickle", pickle.dumps({1: "int key"}), pickle.dumps({b"k"})])
def test_malformed_or_foreign_pickles_are_refused(value: bytes) -> None:
    with pytest.raises(LegacySessionInvalid):
        safe_unpickle(value)


def test_msgpack_never_falls_back_to_pickle(tmp_path: Path) -> None:
    with pytest.raises(LegacySessionInvalid, match="not msgpack"):
        safe_msgpack(pickle.dumps({"x": OpensAFile(tmp_path / "pwned")}))
    assert not (tmp_path / "pwned").exists()


async def test_real_flask_session_files_read_back_exactly(tmp_path: Path) -> None:
    session = realistic_session(user_id=UID)
    cookie = filesystem_legacy(tmp_path).seed(session)
    assert len(cookie) == 43
    record = await FilesystemLegacySource(tmp_path).read(cookie, now=time.time())
    assert record is not None
    assert record.data == {**session, "_permanent": True}
    assert record.key == hashlib.sha256(f"session:{cookie}".encode()).hexdigest()
    assert record.expires_at is not None
    assert record.expires_at > time.time() + 30 * 86400


async def test_md5_named_files_of_older_cachelib_are_found(tmp_path: Path) -> None:
    cookie = filesystem_legacy(tmp_path).seed(realistic_session(user_id=UID))
    sha = hashlib.sha256(f"session:{cookie}".encode()).hexdigest()
    md5 = hashlib.md5(f"session:{cookie}".encode(), usedforsecurity=False).hexdigest()
    (tmp_path / sha).rename(tmp_path / md5)
    record = await FilesystemLegacySource(tmp_path).read(cookie, now=time.time())
    assert record is not None
    assert record.key == md5
    assert record.data["user_id"] == UID


async def test_an_expired_session_file_is_not_read(tmp_path: Path) -> None:
    cookie = filesystem_legacy(tmp_path).seed(realistic_session(user_id=UID))
    source = FilesystemLegacySource(tmp_path)
    record = await source.read(cookie, now=time.time())
    assert record is not None
    assert record.expires_at is not None
    assert await source.read(cookie, now=record.expires_at + 1) is None


async def test_listing_skips_cachelib_counter_and_temp_files(tmp_path: Path) -> None:
    legacy = filesystem_legacy(tmp_path)
    cookies = [legacy.seed(realistic_session(user_id=None, seed=i)) for i in range(3)]
    (tmp_path / "tmpabc.__wz_cache").write_bytes(b"junk")
    source = FilesystemLegacySource(tmp_path)
    refs = [ref async for ref in source.refs()]
    assert sorted(refs) == sorted(hashlib.sha256(f"session:{c}".encode()).hexdigest() for c in cookies)


async def test_real_flask_session_redis_values_read_back(redis_url: str, redis_namespace: str) -> None:
    session = realistic_session(user_id=UID)
    cookie = redis_legacy(redis_url, redis_namespace, LEGACY_SECRET).seed(session)
    sid, _, signature = cookie.partition(".")
    assert len(sid) == 43
    assert signature
    source = RedisLegacySource.from_url(redis_url, secret_key=LEGACY_SECRET, key_prefix=redis_namespace)
    try:
        record = await source.read(cookie, now=time.time())
        assert record is not None
        assert record.data == session
        assert record.expires_at is not None
        assert record.expires_at <= time.time() + 12 * 3600 + 1
        with pytest.raises(LegacySessionInvalid, match="signature"):
            await source.read(f"{sid}.{'A' * len(signature)}", now=time.time())
        with pytest.raises(LegacySessionInvalid, match="signature"):
            await source.read(sid, now=time.time())
        client = redis.Redis.from_url(redis_url)
        client.set(redis_namespace + sid, pickle.dumps(session))  # a pickled value: refused, never loaded
        client.close()
        with pytest.raises(LegacySessionInvalid, match="not msgpack"):
            await source.read(cookie, now=time.time())
    finally:
        await source.close()


async def test_flask_signed_cookie_sessions(tmp_path: Path) -> None:
    session = realistic_session(user_id=UID, turns=1)
    cookie = cookie_legacy(LEGACY_SECRET).seed(session)
    source = FlaskCookieLegacySource(secret_key=LEGACY_SECRET)
    record = await source.read(cookie, now=time.time())
    assert record is not None
    assert record.data["user_id"] == UID
    assert record.data["chat_history"] == session["chat_history"]
    assert record.key == hashlib.sha256(f"user:{UID}".encode()).hexdigest()
    forged = cookie_legacy("another-secret-entirely-of-some-length").seed(session)
    with pytest.raises(LegacySessionInvalid):
        await source.read(forged, now=time.time())
    expired = FlaskCookieLegacySource(secret_key=LEGACY_SECRET, max_age_s=1)
    await asyncio.sleep(2.1)  # itsdangerous judges the signature's age by the wall clock
    assert await expired.read(cookie, now=time.time()) is None


def test_a_signed_redis_source_without_the_legacy_secret_is_a_configuration_error() -> None:
    from workplace_roleplay.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="LEGACY_SECRET_KEY"):
        RedisLegacySource.from_url("redis://127.0.0.1:6379/0", secret_key=None)
