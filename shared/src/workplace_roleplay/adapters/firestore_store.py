"""The cloud document store: Firestore through ``google.cloud.firestore.AsyncClient``.

The SDK is imported inside ``create`` and the methods that need it, so services on the embedded store never
load it. Every SDK exception is translated at this boundary (``_translated``); nothing above sees one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from workplace_roleplay.adapters.document_fields import (
    check_collection_path,
    check_document_path,
    check_json_values,
    check_update_fields,
    check_window,
    expiry_seconds,
    normalize_expiry,
    split_field_path,
)
from workplace_roleplay.errors import (
    AlreadyExists,
    AppError,
    Conflict,
    InvalidInput,
    NotFound,
    StoreUnavailable,
    TransactionReadAfterWrite,
)
from workplace_roleplay.ports import EXPIRES_AT, DocumentSnapshot, Filter, JsonValue, Transaction

T = TypeVar("T")

_PING_TIMEOUT_S = 3.0


def _translated(exc: Exception) -> AppError:
    """Our error for an SDK (or grpc / google-auth) exception."""
    from google.api_core import exceptions as api

    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, api.AlreadyExists):
        return AlreadyExists(str(exc.message))
    if isinstance(exc, api.NotFound):
        return NotFound(str(exc.message))
    if isinstance(exc, api.Conflict | api.Aborted):
        return Conflict(str(exc.message))
    if isinstance(exc, api.FailedPrecondition):
        # Mostly "the query requires an index": a deployment bug, not the caller's input (the detail,
        # with the console link to create the index, goes to the logs).
        return StoreUnavailable(f"firestore: {exc.message}")
    if isinstance(exc, api.InvalidArgument | api.BadRequest | api.OutOfRange):
        return InvalidInput(str(exc.message))
    if isinstance(exc, ValueError) and isinstance(exc.__cause__, api.Aborted):
        # async_transactional wraps the last Aborted in a ValueError once max_attempts is spent.
        return Conflict(f"transaction still contended: {exc}")
    if isinstance(exc, ValueError | TypeError):
        # The SDK validates values and paths client-side with ValueError / TypeError.
        return InvalidInput(f"firestore refused the request: {exc}")
    # Unavailable, DeadlineExceeded, Internal, ResourceExhausted, FailedPrecondition (a missing index),
    # PermissionDenied / Unauthenticated of our own credentials, RetryError, DefaultCredentialsError...:
    # none is the caller's fault, and the detail (with an index link, if any) goes to the logs.
    return StoreUnavailable(f"firestore: {type(exc).__name__}: {exc}")


def _field_path(field: str) -> str:
    """Our dotted field in the SDK's syntax: segments that are not plain identifiers (``相手``) need backticks."""
    from google.cloud.firestore_v1.field_path import render_field_path

    return str(render_field_path(split_field_path(field)))


def _stored(data: Mapping[str, JsonValue]) -> dict[str, Any]:
    """What Firestore stores for our JSON: the reserved expiry as a Timestamp (its TTL policy needs one)."""
    check_json_values(data)
    stored: dict[str, Any] = normalize_expiry(data)
    if stored.get(EXPIRES_AT) is not None:
        stored[EXPIRES_AT] = datetime.fromtimestamp(stored[EXPIRES_AT], UTC)
    return stored


def _read(data: dict[str, Any] | None) -> dict[str, JsonValue] | None:
    """Our JSON for what Firestore returns: the expiry Timestamp back to the same epoch float."""
    if data is not None and isinstance(data.get(EXPIRES_AT), datetime):
        data[EXPIRES_AT] = expiry_seconds(data[EXPIRES_AT].timestamp())
    return data


def _filter_value(item: Filter) -> Any:
    value = list(item.value) if isinstance(item.value, tuple) else item.value
    if item.field != EXPIRES_AT:
        return value

    # Comparisons on the expiry must be Timestamp to Timestamp (Firestore never compares across types).
    def timestamp(v: Any) -> Any:
        number = isinstance(v, int | float) and not isinstance(v, bool)
        return datetime.fromtimestamp(expiry_seconds(v) or 0.0, UTC) if number else v

    return [timestamp(v) for v in value] if isinstance(value, list) else timestamp(value)


def _update_fields(fields: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    check_update_fields(fields)
    return {_field_path(key): value for key, value in _stored(fields).items()}


class _Raised(Exception):
    """Carries an exception of the caller's transaction function through the SDK's retry loop."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class _FirestoreTransaction:
    """Wraps the SDK's transaction: our paths and data, and the read-before-write rule checked up front."""

    def __init__(self, client: Any, transaction: Any) -> None:
        self._client = client
        self._transaction = transaction
        self._wrote = False

    async def get(self, path: str) -> dict[str, JsonValue] | None:
        check_document_path(path)
        if self._wrote:
            raise TransactionReadAfterWrite("a transaction must do all its reads before its first write")
        snapshot = await self._client.document(path).get(transaction=self._transaction)
        return _read(snapshot.to_dict()) if snapshot.exists else None

    def set(self, path: str, data: Mapping[str, JsonValue], *, merge: bool = False) -> None:
        check_document_path(path)
        stored = _stored(data)
        self._wrote = True
        try:
            self._transaction.set(self._client.document(path), stored, merge=merge)
        except (ValueError, TypeError) as exc:
            raise _translated(exc) from exc

    def update(self, path: str, fields: Mapping[str, JsonValue]) -> None:
        check_document_path(path)
        update = _update_fields(fields)
        self._wrote = True
        try:
            self._transaction.update(self._client.document(path), update)
        except (ValueError, TypeError) as exc:
            raise _translated(exc) from exc

    def delete(self, path: str) -> None:
        check_document_path(path)
        self._wrote = True
        self._transaction.delete(self._client.document(path))


class FirestoreDocumentStore:
    """``DocumentStore`` over Firestore (native mode) or its emulator."""

    backend = "firestore"

    def __init__(self, client: Any, *, timeout_s: float = 10.0) -> None:
        self._client = client
        self._timeout_s = timeout_s

    @classmethod
    def build(
        cls, *, project: str, database: str, emulator_host: str | None, timeout_s: float = 10.0
    ) -> FirestoreDocumentStore:
        """Build the client (no network until the first call); ``emulator_host`` selects the emulator.

        Not named ``create``: that name belongs to the port's ``create(path, data)``.
        """
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
        return cls(client, timeout_s=timeout_s)

    @contextlib.asynccontextmanager
    async def _boundary(self, timeout_s: float | None = None) -> AsyncIterator[None]:
        """Bound a call (the SDK's retries included) and translate whatever it raises."""
        limit = timeout_s or self._timeout_s
        try:
            # The SDK's own timeout= bounds one attempt only, and its retries on UNAVAILABLE run for
            # minutes; a request must get its 503 well before Cloud Run's request timeout.
            async with asyncio.timeout(limit):
                yield
        except TimeoutError as exc:
            raise StoreUnavailable(f"firestore did not answer within {limit} s") from exc
        except (_Raised, AppError):
            raise  # ours already, or the caller's own exception (unwrapped by run_transaction)
        except Exception as exc:
            raise _translated(exc) from exc

    async def get(self, path: str) -> dict[str, JsonValue] | None:
        check_document_path(path)
        async with self._boundary():
            snapshot = await self._client.document(path).get()
        return _read(snapshot.to_dict()) if snapshot.exists else None

    async def set(self, path: str, data: Mapping[str, JsonValue], *, merge: bool = False) -> None:
        check_document_path(path)
        stored = _stored(data)
        async with self._boundary():
            await self._client.document(path).set(stored, merge=merge)

    async def create(self, path: str, data: Mapping[str, JsonValue]) -> None:
        check_document_path(path)
        stored = _stored(data)
        async with self._boundary():
            await self._client.document(path).create(stored)

    async def update(self, path: str, fields: Mapping[str, JsonValue]) -> None:
        check_document_path(path)
        update = _update_fields(fields)
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
                query = query.where(filter=FieldFilter(_field_path(item.field), item.op, _filter_value(item)))
            if order_by is not None:
                direction = "DESCENDING" if descending else "ASCENDING"
                query = query.order_by(_field_path(order_by), direction=direction)
            if offset:
                query = query.offset(offset)
            if limit is not None:
                query = query.limit(limit)
            return [
                DocumentSnapshot(snapshot.reference.path, _read(snapshot.to_dict()) or {})
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
                return await fn(_FirestoreTransaction(self._client, transaction))
            except GoogleAPICallError:
                raise
            except Exception as exc:
                raise _Raised(exc) from exc

        try:
            # Contended attempts take seconds each (the server waits on locks), so the bound grows with them.
            async with self._boundary(self._timeout_s * (1 + attempts / 2)):
                result: T = await attempt(self._client.transaction(max_attempts=attempts))
        except _Raised as wrapped:
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
        api = getattr(self._client, "_firestore_api_internal", None)
        if api is not None:
            await api.transport.close()
