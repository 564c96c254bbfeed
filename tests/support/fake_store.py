"""An in-process document store for unit tests that keeps the document-store contract (tests/contract).

Dict-backed, but it validates, merges, updates, expires, filters and orders the way both real adapters do:
it shares their pure rules (``adapters/document_fields.py``: paths, dotted fields, JSON values, merges,
the reserved ``expires_at``; ``sqlite_query.type_class``: Firestore's type classes) and evaluates
queries in Python with Firestore's semantics (comparisons within a type, missing fields skipped, order
across types null < booleans < numbers < strings < arrays < maps, ties by the inequality fields and
then by document id). Transactions are serialised, read before they write, and apply all or nothing.
"""

from __future__ import annotations

import asyncio
import copy
import json
import operator
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from workplace_roleplay.adapters.document_fields import (
    apply_update,
    check_collection_path,
    check_document_path,
    check_json_values,
    check_update_fields,
    check_window,
    merge_documents,
    normalize_expiry,
    parent_collection,
    split_field_path,
)
from workplace_roleplay.adapters.sqlite_query import json_path, type_class
from workplace_roleplay.errors import (
    AlreadyExists,
    InvalidInput,
    NotFound,
    StoreUnavailable,
    TransactionReadAfterWrite,
)
from workplace_roleplay.ports import Clock, DocumentSnapshot, Filter, JsonValue, SystemClock, Transaction
from workplace_roleplay.ports.store import EXPIRES_AT

T = TypeVar("T")
_MISSING = object()
_RANK = {"null": 0, "boolean": 1, "number": 2, "string": 3, "array": 4, "map": 5}
_RANGE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_INEQUALITY_OPS = frozenset({*_RANGE, "!="})


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _field(doc: Mapping[str, Any], field: str) -> Any:
    node: Any = doc
    for part in split_field_path(field):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _sort_key(value: Any) -> tuple[int, Any]:
    kind = type_class(value)
    if kind in ("array", "map"):
        return _RANK[kind], _canonical(value)  # like the SQLite adapter: JSON text (documented limit)
    if kind == "null":
        return 0, 0
    return _RANK[kind], int(value) if kind == "boolean" else value


def _equals(value: Any, wanted: Any) -> bool:
    if value is _MISSING or type_class(value) != type_class(wanted):
        return False
    if type_class(wanted) in ("array", "map"):
        return _canonical(value) == _canonical(wanted)
    return bool(value == wanted)


def _check_filter(item: Filter) -> None:
    json_path(item.field)  # refuses malformed field paths like the adapters do
    if item.op in ("==", "!="):
        type_class(item.value)
    elif item.op == "in":
        if not isinstance(item.value, list | tuple) or not item.value:
            raise InvalidInput("an 'in' filter needs a non-empty list of values")
        for value in item.value:
            type_class(value)
    elif item.op in _RANGE:
        if type_class(item.value) not in ("boolean", "number", "string"):
            raise InvalidInput(f"range filters compare numbers, strings or booleans, not {type_class(item.value)}")
    else:
        raise InvalidInput(f"unsupported filter operator {item.op!r}")


def _matches(doc: Mapping[str, Any], item: Filter) -> bool:
    value = _field(doc, item.field)
    if item.op == "==":
        return _equals(value, item.value)
    if item.op == "!=":
        return value is not _MISSING and value is not None and not _equals(value, item.value)
    if item.op == "in":
        return any(_equals(value, wanted) for wanted in item.value if wanted is not None)
    if value is _MISSING or type_class(value) != type_class(item.value):
        return False
    return bool(_RANGE[item.op](_sort_key(value)[1], _sort_key(item.value)[1]))


class FakeStore:
    """The ``DocumentStore`` port in a dict, faithful to the contract suite."""

    backend = "fake"

    def __init__(self, clock: Clock | None = None) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.queried: list[tuple[str, tuple[Filter, ...]]] = []  # (collection, filters) of every query
        self.down = False
        self.clock = clock or SystemClock()
        self._tx_lock = asyncio.Lock()

    def _live(self, docs: Mapping[str, dict[str, Any]], path: str) -> dict[str, Any] | None:
        doc = docs.get(path)
        if doc is None:
            return None
        expires = doc.get(EXPIRES_AT)
        if isinstance(expires, int | float) and not isinstance(expires, bool) and expires <= self.clock.now():
            return None
        return doc

    def _check_up(self) -> None:
        if self.down:
            raise StoreUnavailable("fake store is down")

    async def get(self, path: str) -> dict[str, JsonValue] | None:
        check_document_path(path)
        self._check_up()
        doc = self._live(self.docs, path)
        return copy.deepcopy(doc) if doc is not None else None

    def _apply(self, docs: dict[str, dict[str, Any]], kind: str, path: str, data: Mapping[str, Any]) -> None:
        """One write onto ``docs`` (validated first, so a refused write changes nothing)."""
        current = self._live(docs, path)
        if kind == "delete":
            docs.pop(path, None)
            return
        check_json_values(data)
        if kind == "create" and current is not None:
            raise AlreadyExists(f"document already exists: {path}")
        if kind == "update":
            if current is None:
                raise NotFound(f"no document to update: {path}")
            new = apply_update(current, data)
        elif kind == "merge":
            new = merge_documents(current or {}, data)
        else:
            new = copy.deepcopy(dict(data))
        docs[path] = normalize_expiry(new)

    async def set(self, path: str, data: Mapping[str, JsonValue], *, merge: bool = False) -> None:
        check_document_path(path)
        self._check_up()
        self._apply(self.docs, "merge" if merge else "set", path, data)

    async def create(self, path: str, data: Mapping[str, JsonValue]) -> None:
        check_document_path(path)
        self._check_up()
        self._apply(self.docs, "create", path, data)

    async def update(self, path: str, fields: Mapping[str, JsonValue]) -> None:
        check_document_path(path)
        check_update_fields(fields)
        self._check_up()
        self._apply(self.docs, "update", path, fields)

    async def delete(self, path: str) -> None:
        check_document_path(path)
        self._check_up()
        self.docs.pop(path, None)

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
        check_collection_path(collection)
        check_window(limit, offset)
        for item in where:
            _check_filter(item)
        if order_by is not None:
            json_path(order_by)
        self._check_up()
        self.queried.append((collection, tuple(where)))
        fields = [order_by] if order_by else []
        fields += sorted({f.field for f in where if f.op in _INEQUALITY_OPS} - set(fields))
        rows = [
            (path, doc)
            for path in list(self.docs)
            if parent_collection(path) == collection
            and (doc := self._live(self.docs, path)) is not None
            and all(_matches(doc, f) for f in where)
            and all(_field(doc, name) is not _MISSING for name in fields)
        ]
        rows.sort(key=lambda row: ([_sort_key(_field(row[1], name)) for name in fields], row[0]), reverse=descending)
        rows = rows[offset:]
        if limit is not None:
            rows = rows[:limit]
        return [DocumentSnapshot(path, copy.deepcopy(doc)) for path, doc in rows]

    async def run_transaction(self, fn: Callable[[Transaction], Awaitable[T]], *, attempts: int = 5) -> T:
        if attempts < 1:
            raise InvalidInput("a transaction needs at least one attempt")
        self._check_up()
        # One transaction at a time; its writes apply together, onto a copy, only when ``fn`` returns.
        async with self._tx_lock:
            tx = _FakeTransaction(self)
            result = await fn(tx)
            staged = dict(self.docs)
            for kind, path, data in tx.writes:
                self._apply(staged, kind, path, data)
            self.docs = staged
            return result

    async def ping(self) -> None:
        self._check_up()

    async def close(self) -> None:
        return None


class _FakeTransaction:
    """Reads go to the store (all before the first write); writes wait until the transaction function returns."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.writes: list[tuple[str, str, dict[str, Any]]] = []

    async def get(self, path: str) -> dict[str, JsonValue] | None:
        if self.writes:
            raise TransactionReadAfterWrite("a transaction must do all its reads before its first write")
        return await self.store.get(path)

    def set(self, path: str, data: Mapping[str, JsonValue], *, merge: bool = False) -> None:
        check_document_path(path)
        check_json_values(data)
        self.writes.append(("merge" if merge else "set", path, copy.deepcopy(dict(data))))

    def update(self, path: str, fields: Mapping[str, JsonValue]) -> None:
        check_document_path(path)
        check_update_fields(fields)
        check_json_values(fields)
        self.writes.append(("update", path, copy.deepcopy(dict(fields))))

    def delete(self, path: str) -> None:
        check_document_path(path)
        self.writes.append(("delete", path, {}))
