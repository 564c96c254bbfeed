"""Firestore's side of the document-store contract: values as Firestore holds them (``expires_at`` as a
Timestamp, dotted field paths quoted), SDK errors translated into the error tree, and the transaction
wrapper. ``firestore_store.py`` is the store over them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from workplace_roleplay.adapters.document_fields import (
    check_document_path,
    check_json_values,
    check_update_fields,
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
from workplace_roleplay.ports import EXPIRES_AT, Filter, JsonValue


def translated(exc: Exception) -> AppError:
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


def field_path(field: str) -> str:
    """Our dotted field in the SDK's syntax: segments that are not plain identifiers (``相手``) need backticks."""
    from google.cloud.firestore_v1.field_path import render_field_path

    return str(render_field_path(split_field_path(field)))


def stored(data: Mapping[str, JsonValue]) -> dict[str, Any]:
    """What Firestore stores for our JSON: the reserved expiry as a Timestamp (its TTL policy needs one)."""
    check_json_values(data)
    doc: dict[str, Any] = normalize_expiry(data)
    if doc.get(EXPIRES_AT) is not None:
        doc[EXPIRES_AT] = datetime.fromtimestamp(doc[EXPIRES_AT], UTC)
    return doc


def read(data: dict[str, Any] | None) -> dict[str, JsonValue] | None:
    """Our JSON for what Firestore returns: the expiry Timestamp back to the same epoch float."""
    if data is not None and isinstance(data.get(EXPIRES_AT), datetime):
        data[EXPIRES_AT] = expiry_seconds(data[EXPIRES_AT].timestamp())
    return data


def filter_value(item: Filter) -> Any:
    value = list(item.value) if isinstance(item.value, tuple) else item.value
    if item.field != EXPIRES_AT:
        return value

    # Comparisons on the expiry must be Timestamp to Timestamp (Firestore never compares across types).
    def timestamp(v: Any) -> Any:
        number = isinstance(v, int | float) and not isinstance(v, bool)
        return datetime.fromtimestamp(expiry_seconds(v) or 0.0, UTC) if number else v

    return [timestamp(v) for v in value] if isinstance(value, list) else timestamp(value)


def update_fields(fields: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    check_update_fields(fields)
    return {field_path(key): value for key, value in stored(fields).items()}


class Raised(Exception):
    """Carries an exception of the caller's transaction function through the SDK's retry loop."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class FirestoreTransaction:
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
        return read(snapshot.to_dict()) if snapshot.exists else None

    def set(self, path: str, data: Mapping[str, JsonValue], *, merge: bool = False) -> None:
        check_document_path(path)
        doc = stored(data)
        self._wrote = True
        try:
            self._transaction.set(self._client.document(path), doc, merge=merge)
        except (ValueError, TypeError) as exc:
            raise translated(exc) from exc

    def update(self, path: str, fields: Mapping[str, JsonValue]) -> None:
        check_document_path(path)
        update = update_fields(fields)
        self._wrote = True
        try:
            self._transaction.update(self._client.document(path), update)
        except (ValueError, TypeError) as exc:
            raise translated(exc) from exc

    def delete(self, path: str) -> None:
        check_document_path(path)
        self._wrote = True
        self._transaction.delete(self._client.document(path))
