"""One turn at a time per conversation: a short lease on the conversation document (ADR 0010).

A turn takes ``turn_lease = {turn_id, holder, expires_at}`` on ``users/{uid}/conversations/{cid}`` in a
store transaction before it stores anything, renews it every third of its life while it runs, and
clears it when it ends (also when the client left). A second line sent meanwhile gets
``AnotherTurnInProgress`` (409 ``turn_in_progress``); the same line sent again gets ``TurnInProgress``
(the web layer then follows that turn's stream). When the holder dies (``kill -9``, a lost instance)
nothing renews the lease, so the conversation is free again within ``lease_s`` seconds and the next
attempt finds the turn abandoned.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workplace_roleplay.domain.conversation.records import Conversation
from workplace_roleplay.errors import AnotherTurnInProgress, AppError, Conflict, ConversationNotFound, TurnInProgress
from workplace_roleplay.ports import Clock, DocumentStore
from workplace_roleplay.ports.store import Transaction

log = logging.getLogger("workplace_roleplay.turn_lease")

LEASE_FIELD = "turn_lease"
ATTEMPTS = 10  # concurrent takers contend on one document; every round one of them wins


@dataclass(frozen=True, slots=True)
class Lease:
    """A held lease: the turn it is for and the random id of this holder."""

    turn_id: str
    holder: str


def live_lease(doc: Mapping[str, Any], now: float) -> dict[str, Any] | None:
    """The conversation document's lease if it has not expired."""
    lease = doc.get(LEASE_FIELD)
    if isinstance(lease, dict) and float(lease.get("expires_at") or 0.0) > now:
        return lease
    return None


class TurnLeases:
    """Takes, renews and clears turn leases on conversation documents."""

    def __init__(self, store: DocumentStore, clock: Clock, *, lease_s: float) -> None:
        self.store, self.clock, self.lease_s = store, clock, lease_s

    async def running(self, conv: Conversation) -> str | None:
        """The turn id holding a live lease on the conversation, if any (a plain read)."""
        doc = await self.store.get(conv.path)
        lease = live_lease(doc or {}, self.clock.now())
        return str(lease.get("turn_id", "")) if lease else None

    async def acquire(self, conv: Conversation, turn_id: str) -> tuple[Lease, dict[str, Any]]:
        """Take the conversation for ``turn_id``: (the lease, the conversation document as it now stands)."""
        lease = Lease(turn_id, secrets.token_hex(8))

        async def take(tx: Transaction) -> dict[str, Any]:
            doc = await tx.get(conv.path)
            if doc is None:
                raise ConversationNotFound()
            current = live_lease(doc, self.clock.now())
            if current is not None:
                running = str(current.get("turn_id", ""))
                if running == turn_id:
                    raise TurnInProgress(extra={"turn_id": turn_id})
                raise AnotherTurnInProgress(extra={"turn_id": running})
            tx.update(conv.path, {LEASE_FIELD: self._value(lease)})
            return doc

        try:
            return lease, await self.store.run_transaction(take, attempts=ATTEMPTS)
        except TurnInProgress:
            raise
        except Conflict as exc:
            # Contention that outlasted every attempt means other lines are taking this conversation
            # right now: the learner gets the same answer as for a running turn, never a bare conflict.
            raise AnotherTurnInProgress() from exc

    def _value(self, lease: Lease) -> dict[str, Any]:
        return {"turn_id": lease.turn_id, "holder": lease.holder, "expires_at": self.clock.now() + self.lease_s}

    async def _if_held(self, conv: Conversation, lease: Lease, value: dict[str, Any] | None) -> bool:
        """Write ``value`` as the lease if ``lease`` still holds it; False when it was lost."""

        async def write(tx: Transaction) -> bool:
            doc = await tx.get(conv.path)
            current = (doc or {}).get(LEASE_FIELD)
            if doc is None or not isinstance(current, dict) or current.get("holder") != lease.holder:
                return False
            tx.update(conv.path, {LEASE_FIELD: value})
            return True

        return await self.store.run_transaction(write, attempts=ATTEMPTS)

    async def renew(self, conv: Conversation, lease: Lease) -> bool:
        return await self._if_held(conv, lease, self._value(lease))

    async def release(self, conv: Conversation, lease: Lease) -> None:
        try:
            await self._if_held(conv, lease, None)
        except AppError as exc:  # the lease then expires by itself within lease_s
            log.warning("turn lease not released", extra={"turn_id": lease.turn_id, "error_code": exc.code})

    async def keep(self, conv: Conversation, lease: Lease) -> None:
        """Renew every third of the lease's life until cancelled or the lease is lost."""
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                if not await self.renew(conv, lease):
                    log.warning("turn lease lost", extra={"turn_id": lease.turn_id})
                    return
            except AppError as exc:  # a store hiccup: try again at the next beat
                log.warning("turn lease not renewed", extra={"turn_id": lease.turn_id, "error_code": exc.code})

    @contextlib.asynccontextmanager
    async def held(self, conv: Conversation, lease: Lease) -> AsyncIterator[HeldLease]:
        """Renew ``lease`` while the block runs; clear it when the block ends, however it ends.

        The turn clears it itself just before its closing event (``HeldLease.release``), so a client
        that sends its next line the moment it reads ``done`` never meets its own finished turn's lease.
        """
        held = HeldLease(self, conv, lease)
        try:
            yield held
        finally:
            await held.release()


class HeldLease:
    """A lease being renewed in the background until ``release`` or ``finish`` (idempotent)."""

    def __init__(self, leases: TurnLeases, conv: Conversation, lease: Lease) -> None:
        self.leases, self.conv, self.lease = leases, conv, lease
        self._keeper: asyncio.Task[None] | None = asyncio.create_task(leases.keep(conv, lease), name="turn_lease")
        self._cleared = False

    async def _stop_renewing(self) -> None:
        keeper, self._keeper = self._keeper, None
        if keeper is None:
            return
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper

    def clearing(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """The fields that clear this lease in a transaction that read the conversation as ``doc``
        (nothing when the lease was lost to another holder meanwhile)."""
        current = doc.get(LEASE_FIELD)
        if isinstance(current, dict) and current.get("holder") == self.lease.holder:
            return {LEASE_FIELD: None}
        return {}

    async def finish(self, write: Callable[[Callable[[Mapping[str, Any]], dict[str, Any]]], Awaitable[None]]) -> None:
        """Clear the lease inside ``write``, a transaction on the conversation the turn does anyway (it
        applies ``clearing`` to the document it read), instead of a transaction of its own."""
        await self._stop_renewing()
        if self._cleared:
            await write(lambda _doc: {})
            return
        await write(self.clearing)
        self._cleared = True

    async def release(self) -> None:
        await self._stop_renewing()
        if self._cleared:
            return
        self._cleared = True
        await self.leases.release(self.conv, self.lease)
