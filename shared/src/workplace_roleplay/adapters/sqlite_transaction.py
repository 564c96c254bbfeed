"""The ``Transaction`` a SQLite transaction function receives: reads go to the locked connection, writes wait.

Writes are buffered and applied at commit, like Firestore's, so a function that fails half way has
written nothing, and the rule "all reads before the first write" holds on both adapters.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Mapping

from workplace_roleplay.adapters.document_fields import (
    check_document_path,
    check_json_values,
    check_update_fields,
)
from workplace_roleplay.adapters.sqlite_documents import Write
from workplace_roleplay.errors import TransactionReadAfterWrite
from workplace_roleplay.ports import JsonValue


class SqliteTransaction:
    """Reads through ``reader`` (inside BEGIN IMMEDIATE); collects writes for the commit."""

    def __init__(self, reader: Callable[[str], Awaitable[dict[str, JsonValue] | None]]) -> None:
        self._reader = reader
        self.writes: list[Write] = []

    async def get(self, path: str) -> dict[str, JsonValue] | None:
        check_document_path(path)
        if self.writes:
            raise TransactionReadAfterWrite("a transaction must do all its reads before its first write")
        return await self._reader(path)

    def set(self, path: str, data: Mapping[str, JsonValue], *, merge: bool = False) -> None:
        check_document_path(path)
        check_json_values(data)
        self.writes.append(Write("merge" if merge else "set", path, copy.deepcopy(dict(data))))

    def update(self, path: str, fields: Mapping[str, JsonValue]) -> None:
        check_document_path(path)
        check_update_fields(fields)
        check_json_values(fields)
        self.writes.append(Write("update", path, copy.deepcopy(dict(fields))))

    def delete(self, path: str) -> None:
        check_document_path(path)
        self.writes.append(Write("delete", path, {}))
