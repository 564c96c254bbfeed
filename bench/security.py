"""Cost of the security layer: token verification, ALE of a 4 KB message, refresh rotation, auth per request.

Each operation is timed one call at a time (``perf_counter_ns``) after a warm-up; the report gives the
median and p95 in microseconds. ``auth_request`` is a whole in-process ASGI request that goes through the
shared auth dependency (Bearer), next to ``/health`` which does not, so their difference is what
authentication adds to a request.

    .venv/bin/python -m bench.security [--n 5000] [--out bench/results/security.json]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.auth_app import auth_app, auth_settings
from tests.support.fakes import FakeStore
from workplace_roleplay.adapters.field_crypto import AesGcmFieldCipher
from workplace_roleplay.adapters.jwt_tokens import JwtAccessTokens
from workplace_roleplay.adapters.sqlite_store import SqliteDocumentStore
from workplace_roleplay.domain.identity.refresh_tokens import RefreshTokens
from workplace_roleplay.ports import SystemClock

ROOT = Path(__file__).resolve().parents[1]
# 4 KB of Japanese text (3 bytes per character in UTF-8), like a long learner message or a report section.
_TEXT = ("会議の資料に誤りがありました。申し訳ありません。" * 60).encode()[:4090].decode(errors="ignore")
MESSAGE = _TEXT + "." * (4096 - len(_TEXT.encode()))


def summary(samples_ns: list[int]) -> dict[str, float]:
    samples = sorted(samples_ns)
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    return {
        "p50_us": round(statistics.median(samples) / 1000, 2),
        "p95_us": round(p95 / 1000, 2),
        "n": len(samples),
    }


def time_sync(fn: Callable[[], object], n: int) -> dict[str, float]:
    for _ in range(min(200, n)):
        fn()
    samples = []
    for _ in range(n):
        started = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - started)
    return summary(samples)


async def time_async(fn: Callable[[], Awaitable[object]], n: int) -> dict[str, float]:
    for _ in range(min(50, n)):
        await fn()
    samples = []
    for _ in range(n):
        started = time.perf_counter_ns()
        await fn()
        samples.append(time.perf_counter_ns() - started)
    return summary(samples)


def token_codecs() -> dict[str, JwtAccessTokens]:
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    common: dict[str, Any] = {"issuer": "wr", "audience": "wr-api", "ttl_s": 900, "leeway_s": 30}
    return {
        "HS256": JwtAccessTokens(algorithm="HS256", active_kid="k1", keys={"k1": os.urandom(32).hex()}, **common),
        "RS256": JwtAccessTokens(algorithm="RS256", active_kid="r1", keys={"r1": pem}, **common),
    }


async def run(n: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    now = time.time()
    for alg, codec in token_codecs().items():
        token, _ = codec.issue(user_id="6f1c3f1e-2d3b-4c59-9d8e-0b7f4a1c2e3d", family_id="fam", now=now)
        results[f"jwt_verify_{alg}"] = time_sync(functools.partial(codec.verify, token, now=now), n)
        results[f"jwt_issue_{alg}"] = time_sync(functools.partial(codec.issue, user_id="u", family_id="f", now=now), n)

    cipher = AesGcmFieldCipher(primary_kid="k2", keys={"k2": os.urandom(32), "k1": os.urandom(32)})
    context = "users/u1/conversations/c1/messages/m1"
    sealed = cipher.encrypt(MESSAGE, aad=context)
    results["ale_encrypt_4kb"] = time_sync(lambda: cipher.encrypt(MESSAGE, aad=context), n)
    results["ale_decrypt_4kb"] = time_sync(lambda: cipher.decrypt(sealed, aad=context), n)
    results["ale_stored_bytes_4kb"] = len(json.dumps(sealed))

    with tempfile.TemporaryDirectory() as tmp:
        store = await SqliteDocumentStore.open(Path(tmp) / "bench.sqlite3")
        refresh = RefreshTokens(store, SystemClock(), ttl_s=604800, reuse_grace_s=10)
        current = (await refresh.start_family("u1")).refresh_token or ""

        async def rotate() -> None:
            nonlocal current
            current = (await refresh.rotate(current)).refresh_token or ""

        results["refresh_rotation_sqlite"] = await time_async(rotate, max(100, n // 10))
        await store.close()

    app = auth_app(auth_settings(RATE_LIMIT_ENABLED=False, LOG_LEVEL="WARNING"), FakeStore())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://bench") as client:
            body = (await client.post("/api/v2/auth/anonymous")).json()
            client.cookies.clear()
            headers = {"Authorization": f"Bearer {body['access_token']}"}
            requests = max(200, n // 10)
            results["request_health_no_auth"] = await time_async(lambda: client.get("/health"), requests)
            results["request_with_bearer_auth"] = await time_async(
                lambda: client.get("/api/v2/auth/probe/who", headers=headers), requests
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="iterations per CPU-only operation")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "security.json")
    args = parser.parse_args()
    results = asyncio.run(run(args.n))
    report = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "message_bytes": len(MESSAGE.encode()),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
