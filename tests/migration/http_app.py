"""The real migrate_session app over an embedded store, a legacy session directory and a local JWKS."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from functions.migrate_session.main import create
from workplace_roleplay.settings import MigrateSessionSettings

WORKER_URL = "https://migrate-session-worker-abc.a.run.app"
INVOKER = "tasks-invoker@demo.iam.gserviceaccount.com"
ISSUER = "https://accounts.google.com"


class LocalIssuer:
    """Signs Google-style OIDC tokens with a local RSA key and serves its JWKS over HTTP."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = json.dumps({"keys": [{**jwk, "kid": "local-1", "alg": "RS256", "use": "sig"}]}).encode()
        self.url = ""

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": WORKER_URL,
            "sub": "1234567890",
            "email": INVOKER,
            "email_verified": True,
            "iat": now,
            "exp": now + 3600,
            **overrides,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "local-1"})

    @contextmanager
    def serving(self) -> Iterator[LocalIssuer]:
        body = self.jwks

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}/certs"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


def migration_settings(tmp_path: Path, source: str, **overrides: Any) -> MigrateSessionSettings:
    values: dict[str, Any] = {
        "ENV": "test",
        "LOG_JSON": False,
        "STORE_BACKEND": "sqlite",
        "DATA_DIR": tmp_path / "data",
        "LEGACY_SESSION_SOURCE": source,
        "LEGACY_USER_DATA_DIR": tmp_path / "user_data",
        "TASKS_WORKER_URL": WORKER_URL,
        "TASKS_INVOKER_EMAIL": INVOKER,
        **overrides,
    }
    return MigrateSessionSettings(**values)


@asynccontextmanager
async def serving(app: FastAPI, *, base_url: str = "https://wr.test") -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


def app_for(settings: MigrateSessionSettings) -> FastAPI:
    return create(settings)
