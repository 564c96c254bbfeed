"""Suite-wide fixtures. Real services (Redis, Firestore emulator) start on demand, once per session."""

from __future__ import annotations

pytest_plugins: list[str] = [
    "tests.support.redis_server",
    "tests.support.redis_cluster",
    "tests.support.firestore_emulator",
    "tests.support.fake_gemini",
]
