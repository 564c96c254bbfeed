"""The document-store port: the small part of Firestore the application uses.

Documents live at slash-separated paths with an even number of segments
(``users/u1/conversations/c1``); a collection is a path with an odd number (``users/u1/conversations``).
Values are JSON-compatible (str, int, float, bool, None, lists and string-keyed dicts), so both
adapters store exactly what they are given. Timestamps are stored as epoch seconds (float) or ISO text.

One top-level field is reserved: ``expires_at`` (``EXPIRES_AT``), the document's expiry in epoch seconds
(a number, or None for "never"). Repositories of ephemeral data set it (refresh tokens and their
families). Both adapters store it as a float rounded to microseconds and return that float; Firestore
keeps it as a Timestamp, which is what its TTL policy (terraform/modules/firestore) needs to delete the
document. An expired document disappears some time after its expiry: at once for reads on SQLite (which
also purges expired rows now and then), within about a day on Firestore (TTL deletion is asynchronous).
So callers never rely on the disappearance for correctness; they compare ``expires_at`` themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeAlias, TypeVar

JsonValue: TypeAlias = Any
"""A JSON-compatible value (kept ``Any`` because recursive aliases confuse Firestore's typing)."""

FilterOp = Literal["==", "!=", "<", "<=", ">", ">=", "in"]
EXPIRES_AT = "expires_at"
"""The reserved expiry field (epoch seconds; a Firestore Timestamp with a TTL policy in the cloud)."""
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Filter:
    """A field comparison; dotted ``field`` names reach into nested maps."""

    field: str
    op: FilterOp
    value: JsonValue


@dataclass(frozen=True, slots=True)
class DocumentSnapshot:
    """A document read from the store."""

    path: str
    data: dict[str, JsonValue] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class Transaction(Protocol):
    """Reads and writes applied atomically by ``DocumentStore.run_transaction``.

    All reads must happen before the first write (Firestore's rule, kept by both adapters).
    """

    async def get(self, path: str) -> dict[str, JsonValue] | None: ...

    def set(self, path: str, data: Mapping[str, JsonValue], *, merge: bool = False) -> None: ...

    def update(self, path: str, fields: Mapping[str, JsonValue]) -> None: ...

    def delete(self, path: str) -> None: ...


class DocumentStore(Protocol):
    """Durable documents: Firestore in the cloud, SQLite embedded."""

    backend: str

    async def get(self, path: str) -> dict[str, JsonValue] | None:
        """Return the document at ``path`` or None."""
        ...

    async def set(self, path: str, data: Mapping[str, JsonValue], *, merge: bool = False) -> None:
        """Write a whole document; with ``merge`` keep the fields not named (maps merge deeply)."""
        ...

    async def create(self, path: str, data: Mapping[str, JsonValue]) -> None:
        """Write a new document; raise ``AlreadyExists`` if one is there."""
        ...

    async def update(self, path: str, fields: Mapping[str, JsonValue]) -> None:
        """Merge ``fields`` into an existing document (dotted keys reach nested maps).

        Raises ``NotFound`` when the document is absent.
        """
        ...

    async def delete(self, path: str) -> None:
        """Delete the document (no error when absent). Subcollections are not touched."""
        ...

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
        """Documents of one collection matching every filter, ordered and limited."""
        ...

    async def run_transaction(self, fn: Callable[[Transaction], Awaitable[T]], *, attempts: int = 5) -> T:
        """Run ``fn`` as an atomic read-modify-write, retried on contention."""
        ...

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` when the store cannot serve."""
        ...

    async def close(self) -> None: ...
