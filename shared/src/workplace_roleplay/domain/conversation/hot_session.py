"""Hot session state in the cache (``user_session:{<user_id>}``, sliding TTL): pointers and counters only.

An optimisation, never the source of truth: with the cache down every read is a miss and the
caller falls back to the store.
"""

from __future__ import annotations

import json
from typing import Any

from workplace_roleplay.ports import Cache
from workplace_roleplay.ports.cache_keys import session_key

SESSION_TTL_S = 30 * 60


class HotSession:
    """The learner's active conversation and turn counter."""

    def __init__(self, cache: Cache, *, ttl_s: int = SESSION_TTL_S) -> None:
        self.cache = cache
        self.ttl_s = ttl_s

    def _key(self, user_id: str) -> str:
        return session_key(user_id)

    async def read(self, user_id: str) -> dict[str, Any]:
        raw = await self.cache.get(self._key(user_id))
        if raw is None:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    async def record_turn(self, user_id: str, mode: str, conversation_id: str) -> None:
        state = await self.read(user_id)
        state[f"active_{mode}"] = conversation_id
        state["turns"] = int(state.get("turns", 0)) + 1
        await self.cache.set(self._key(user_id), json.dumps(state).encode(), ttl=self.ttl_s)

    async def touch(self, user_id: str) -> None:
        """Slide the TTL: the learner is still here."""
        await self.cache.touch(self._key(user_id), ttl=self.ttl_s)

    async def remember_active(self, user_id: str, mode: str, conversation_id: str) -> None:
        """Point ``active_{mode}`` at a conversation found in the store (re-warming after expiry)."""
        state = await self.read(user_id)
        state[f"active_{mode}"] = conversation_id
        await self.cache.set(self._key(user_id), json.dumps(state).encode(), ttl=self.ttl_s)

    async def forget(self, user_id: str, mode: str, conversation_id: str) -> None:
        state = await self.read(user_id)
        if state.get(f"active_{mode}") == conversation_id:
            state.pop(f"active_{mode}")
            await self.cache.set(self._key(user_id), json.dumps(state).encode(), ttl=self.ttl_s)
