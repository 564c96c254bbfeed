"""The cloud document store: Firestore through ``google.cloud.firestore.AsyncClient``.

The SDK is imported when the client is first needed (the first store call: in the cloud, the startup probe's
``/ready`` ping), not when the store is built at startup, so a service is up without paying the SDK's import
(about a third of a service's start; ADR 0032). Services on the embedded store never load it. Every SDK
exception is translated at this boundary (``firestore_documents.translated``); nothing above sees one.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from workplace_roleplay.adapters.document_fields import (
    check_collection_path,
    check_document_path,
    check_window,
)
from workplace_roleplay.adapters.firestore_documents import (
    FirestoreTransaction,
    Raised,
    field_path,
    filter_value,
    read,
    stored,
    translated,
    update_fields,
)
from workplace_roleplay.errors import (
    AppError,
    InvalidInput,
    StoreUnavailable,
)
from workplace_roleplay.ports import DocumentSnapshot, Filter, JsonValue, Transaction

T = TypeVar("T")

_PING_TIMEOUT_S = 3.0


class FirestoreDocumentStore:
    """``DocumentStore`` over Firestore (native mode) or its emulator."""

    backend = "firestore"

    def __init__(self, client: Any | Callable[[], Any], *, timeout_s: float = 10.0) -> None:
        # A client, or a builder called once, by the first call that needs the client.
        self._built: Any | None = None if callable(client) else client
        self._builder: Callable[[], Any] | None = client if callable(client) else None
        self._building = threading.Lock()
        self._timeout_s = timeout_s

    def _build(self) -> Any:
        """Build the client once (two first calls at once: the second waits for the first's client)."""
        with self._building:
            if self._built is None:
                assert self._builder is not None
                self._built = self._builder()
        return self._built

    @property
    def _client(self) -> Any:
        """The SDK client (every call site is inside ``_boundary``, which has built it off the event loop)."""
        return self._built if self._built is not None else self._build()

    @classmethod
    def build(
        cls, *, project: str, database: str, emulator_host: str | None, timeout_s: float = 10.0
    ) -> FirestoreDocumentStore:
        """The store; its client is built on the first call (no import, no network before);
        ``emulator_host`` selects the emulator.

        Not named ``create``: that name belongs to the port's ``create(path, data)``.
        """
        return cls(lambda: _client(project, database, emulator_host), timeout_s=timeout_s)

    @contextlib.asynccontextmanager
    async def _boundary(self, timeout_s: float | None = None) -> AsyncIterator[None]:
        """Bound a call (the SDK's retries included) and translate whatever it raises."""
        # The client's one-time build (the SDK's import, ≈ 0.3–2 s) runs on a worker thread, so the event loop
        # keeps serving (health, Redis checks, other requests), and before the deadline starts: the deadline
        # bounds Firestore's answer, not our own first import.
        if self._built is None:
            await asyncio.to_thread(self._build)
        limit = timeout_s or self._timeout_s
        try:
            # The SDK's own timeout= bounds one attempt only, and its retries on UNAVAILABLE run for
            # minutes; a request must get its 503 well before Cloud Run's request timeout.
            async with asyncio.timeout(limit):
                yield
        except TimeoutError as exc:
            raise StoreUnavailable(f"firestore did not answer within {limit} s") from exc
        except (Raised, AppError):
            raise  # ours already, or the caller's own exception (unwrapped by run_transaction)
        except Exception as exc:
            raise translated(exc) from exc

    async def get(self, path: str) -> dict[str, JsonValue] | None:
        check_document_path(path)
        async with self._boundary():
            snapshot = await self._client.document(path).get()
        return read(snapshot.to_dict()) if snapshot.exists else None

    async def set(self, path: str, data: Mapping[str, JsonValue], *, merge: bool = False) -> None:
        check_document_path(path)
        doc = stored(data)
        async with self._boundary():
            await self._client.document(path).set(doc, merge=merge)

    async def create(self, path: str, data: Mapping[str, JsonValue]) -> None:
        check_document_path(path)
        doc = stored(data)
        async with self._boundary():
            await self._client.document(path).create(doc)

    async def update(self, path: str, fields: Mapping[str, JsonValue]) -> None:
        check_document_path(path)
        update = update_fields(fields)
        async with self._boundary():
            await self._client.document(path).update(update)

    async def delete(self, path: str) -> None:
        check_document_path(path)
        async with self._boundary():
            await self._client.document(path).delete()

    async def query(
        self,
        collection: str,
        *,
        where: Sequence[Filter] = (),
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[DocumentSnapshot]:
        from google.cloud.firestore_v1.base_query import FieldFilter

        check_collection_path(collection)
        check_window(limit, offset)
        # Building the query is inside the boundary too: the SDK validates filters with ValueError.
        async with self._boundary():
            query: Any = self._client.collection(collection)
            for item in where:
                query = query.where(filter=FieldFilter(field_path(item.field), item.op, filter_value(item)))
            if order_by is not None:
                direction = "DESCENDING" if descending else "ASCENDING"
                query = query.order_by(field_path(order_by), direction=direction)
            if offset:
                query = query.offset(offset)
            if limit is not None:
                query = query.limit(limit)
            return [
                DocumentSnapshot(snapshot.reference.path, read(snapshot.to_dict()) or {})
                async for snapshot in query.stream()
            ]

    async def run_transaction(self, fn: Callable[[Transaction], Awaitable[T]], *, attempts: int = 5) -> T:
        from google.api_core.exceptions import GoogleAPICallError
        from google.cloud.firestore_v1.async_transaction import async_transactional

        if attempts < 1:
            raise InvalidInput("a transaction needs at least one attempt")

        # async_transactional reruns the function on Aborted (contention), with a fresh wrapper each time,
        # and rolls back when it raises. SDK errors pass through raw so it can see Aborted; the caller's own
        # exceptions travel wrapped, so they are neither retried nor mistaken for SDK errors.
        @async_transactional
        async def attempt(transaction: Any) -> T:
            try:
                return await fn(FirestoreTransaction(self._client, transaction))
            except GoogleAPICallError:
                raise
            except Exception as exc:
                raise Raised(exc) from exc

        try:
            # Contended attempts take seconds each (the server waits on locks), so the bound grows with them.
            async with self._boundary(self._timeout_s * (1 + attempts / 2)):
                result: T = await attempt(self._client.transaction(max_attempts=attempts))
        except Raised as wrapped:
            error = wrapped.error
            raise error from error.__cause__
        return result

    async def ping(self) -> None:
        """One cheap document read (absent or not), bounded by a short deadline."""
        async with self._boundary(min(_PING_TIMEOUT_S, self._timeout_s)):
            await self._client.document("_health/ping").get()

    async def close(self) -> None:
        # AsyncClient has no public close (google-cloud-firestore 2.34); closing the gRPC channel of the
        # GAPIC client it created lazily avoids a leaked channel warning at event-loop shutdown.
        if self._built is None:
            return  # never used: nothing was imported or opened
        api = getattr(self._built, "_firestore_api_internal", None)
        if api is not None:
            await api.transport.close()


def _client(project: str, database: str, emulator_host: str | None) -> Any:
    from google.auth.credentials import AnonymousCredentials
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import firestore

    credentials = AnonymousCredentials() if emulator_host else None  # type: ignore[no-untyped-call]
    try:
        client = firestore.AsyncClient(project=project, database=database, credentials=credentials)
    except DefaultCredentialsError as exc:
        raise StoreUnavailable(f"no Google credentials for Firestore: {exc}") from exc
    # The SDK learns about an emulator only from os.environ (read in its constructor). Settings are our
    # one source of configuration, so set the attribute it reads from them: this also stops a stray
    # FIRESTORE_EMULATOR_HOST in the environment from redirecting a cloud service. The channel is
    # created lazily on the first call, after this line.
    client._emulator_host = emulator_host or None
    return client
