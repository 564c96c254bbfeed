"""Helpers shared by the document-store contract modules."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from workplace_roleplay.ports import DocumentStore, Filter, FilterOp


async def ids(
    store: DocumentStore,
    collection: str,
    *where: tuple[str, FilterOp, Any],
    order_by: str | None = None,
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[str]:
    found = await store.query(
        collection,
        where=[Filter(field, op, value) for field, op, value in where],
        order_by=order_by,
        descending=descending,
        limit=limit,
        offset=offset,
    )
    return [snapshot.id for snapshot in found]


async def put_all(store: DocumentStore, collection: str, docs: Mapping[str, Any]) -> None:
    await asyncio.gather(*(store.set(f"{collection}/{doc_id}", data) for doc_id, data in docs.items()))


# Values of every type, one document each, for the comparison tests (names sort in Firestore's type order).
MIXED = {
    "a_null": {"x": None},
    "b_false": {"x": False},
    "c_true": {"x": True},
    "d_one": {"x": 1},
    "e_one_float": {"x": 1.0},
    "f_two_half": {"x": 2.5},
    "g_str": {"x": "1"},
    "h_array": {"x": [1]},
    "i_map": {"x": {"k": 1}},
    "j_missing": {"y": 1},
}
