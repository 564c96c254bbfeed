"""The ``DocumentStore`` contract (documents, values, transactions, health) on SQLite and the Firestore emulator.

Expected results were first observed on the emulator; the SQLite adapter must agree with them.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.contract.documents import ids, put_all
from workplace_roleplay.errors import AlreadyExists, InvalidInput, NotFound, TransactionReadAfterWrite
from workplace_roleplay.ports import DocumentStore, Filter, Transaction

# Concurrent transactions on one document: the emulator resolves contention slowly (~2 s per conflict),
# so its leg runs fewer of them.
CONCURRENT_TRANSACTIONS = {"fake": 8, "sqlite": 8, "firestore": 3}


# --- single documents ------------------------------------------------------------------------------


async def test_get_of_a_missing_document_is_none(store: DocumentStore) -> None:
    assert await store.get("users/nobody") is None


async def test_set_replaces_the_whole_document(store: DocumentStore) -> None:
    await store.set("users/u1", {"a": 1, "b": {"c": 2}})
    assert await store.get("users/u1") == {"a": 1, "b": {"c": 2}}
    await store.set("users/u1", {"z": True})
    assert await store.get("users/u1") == {"z": True}


async def test_create_refuses_an_existing_document(store: DocumentStore) -> None:
    await store.create("users/u1", {"n": 1})
    with pytest.raises(AlreadyExists):
        await store.create("users/u1", {"n": 2})
    assert await store.get("users/u1") == {"n": 1}


async def test_update_changes_only_the_named_fields_and_dotted_keys_reach_nested_maps(
    store: DocumentStore,
) -> None:
    await store.set("users/u1", {"a": 1, "keep": "yes", "m": {"x": 1, "y": 2}, "s": 5})
    await store.update("users/u1", {"a": 2, "m.x": 10, "new.deep.k": "v", "s.t": 1})
    assert await store.get("users/u1") == {
        "a": 2,
        "keep": "yes",
        "m": {"x": 10, "y": 2},
        "new": {"deep": {"k": "v"}},
        "s": {"t": 1},  # a dotted key through a scalar turns it into a map, as Firestore does
    }


async def test_update_with_a_map_value_replaces_that_map(store: DocumentStore) -> None:
    await store.set("users/u1", {"m": {"x": 1, "y": 2}})
    await store.update("users/u1", {"m": {"z": 3}})
    assert await store.get("users/u1") == {"m": {"z": 3}}


async def test_update_of_a_missing_document_raises_not_found_and_creates_nothing(store: DocumentStore) -> None:
    with pytest.raises(NotFound):
        await store.update("users/ghost", {"a": 1})
    assert await store.get("users/ghost") is None


async def test_update_refuses_no_fields_and_overlapping_fields(store: DocumentStore) -> None:
    await store.set("users/u1", {"m": {"x": 1}})
    with pytest.raises(InvalidInput):
        await store.update("users/u1", {})
    with pytest.raises(InvalidInput):
        await store.update("users/u1", {"m": {}, "m.x": 2})
    assert await store.get("users/u1") == {"m": {"x": 1}}


async def test_set_merge_merges_maps_at_every_depth(store: DocumentStore) -> None:
    await store.set("users/u1", {"a": 1, "m": {"x": 1, "n": {"p": 1, "q": 2}}, "e": {"k": 1}, "s": 1})
    await store.set("users/u1", {"m": {"n": {"q": 3}, "y": 2}, "e": {}, "s": {"t": 1}, "b": 2}, merge=True)
    assert await store.get("users/u1") == {
        "a": 1,
        "b": 2,
        "m": {"x": 1, "y": 2, "n": {"p": 1, "q": 3}},
        "e": {},  # an empty map is a value of its own: it replaces
        "s": {"t": 1},
    }


async def test_set_merge_creates_a_missing_document(store: DocumentStore) -> None:
    await store.set("users/new", {"m": {"x": 1}}, merge=True)
    assert await store.get("users/new") == {"m": {"x": 1}}


async def test_delete_is_idempotent(store: DocumentStore) -> None:
    await store.set("users/u1", {"a": 1})
    await store.delete("users/u1")
    assert await store.get("users/u1") is None
    await store.delete("users/u1")
    await store.delete("users/never-existed")


async def test_subcollections_are_independent_of_their_parents(store: DocumentStore) -> None:
    await store.set("users/u1", {"name": "parent"})
    await store.set("users/u1/conversations/c1", {"name": "child"})
    await store.set("users/u1/conversations/c1/messages/m1", {"name": "grandchild"})
    await store.set("users/u2/conversations/c1", {"name": "other parent's child"})

    assert await ids(store, "users") == ["u1"]  # u2 exists only as a path prefix, like in Firestore
    assert await ids(store, "users/u1/conversations") == ["c1"]
    assert await ids(store, "users/u1/conversations/c1/messages") == ["m1"]

    await store.delete("users/u1")
    assert await store.get("users/u1") is None
    assert await store.get("users/u1/conversations/c1") == {"name": "child"}
    assert await ids(store, "users/u1/conversations/c1/messages") == ["m1"]


async def test_paths_of_the_wrong_shape_are_refused(store: DocumentStore) -> None:
    with pytest.raises(InvalidInput):
        await store.get("users")
    with pytest.raises(InvalidInput):
        await store.set("users//u1", {"a": 1})
    with pytest.raises(InvalidInput):
        await store.query("users/u1")


# --- values ----------------------------------------------------------------------------------------


async def test_values_of_every_json_type_round_trip_with_their_types(store: DocumentStore) -> None:
    data = {
        "text": "plain",
        "empty_text": "",
        "int": 42,
        "negative": -7,
        "big": 2**53 + 1,
        "float": 0.1,
        "whole_float": 2.0,
        "true": True,
        "false": False,
        "null": None,
        "list": [1, "two", 3.5, None, True, {"k": [1, 2]}],
        "empty_list": [],
        "map": {"nested": {"deeper": {"x": 1}}, "list": ["a"]},
        "empty_map": {},
    }
    await store.set("values/all", data)
    stored = await store.get("values/all")
    assert stored == data
    assert stored is not None
    assert type(stored["int"]) is int
    assert type(stored["big"]) is int
    assert type(stored["whole_float"]) is float
    assert type(stored["true"]) is bool


async def test_values_that_are_not_json_are_refused(store: DocumentStore) -> None:
    with pytest.raises(InvalidInput):
        await store.set("values/bad", {"when": object()})
    with pytest.raises(InvalidInput):
        await store.set("values/bad", {"ok": 1, "nested": {"bad": {1, 2}}})
    with pytest.raises(InvalidInput):
        await store.create("values/bad", {"nan": float("nan")})
    with pytest.raises(InvalidInput):
        await store.set("values/bad", {"map": {1: "int key"}})
    assert await store.get("values/bad") is None
    await store.set("values/good", {"ok": 1})
    with pytest.raises(InvalidInput):
        await store.update("values/good", {"when": b"bytes"})
    assert await store.get("values/good") == {"ok": 1}

    async def write_bad(tx: Transaction) -> None:
        tx.set("values/bad", {"when": object()})

    with pytest.raises(InvalidInput):
        await store.run_transaction(write_bad)
    assert await store.get("values/bad") is None


async def test_filters_of_unknown_shape_are_refused(store: DocumentStore) -> None:
    await store.set("docs/a", {"x": 1})
    with pytest.raises(InvalidInput):
        await store.query("docs", where=[Filter("x", "in", 1)])
    with pytest.raises(InvalidInput):
        await store.query("docs", where=[Filter("x", "<", None)])


async def test_japanese_text_round_trips_in_ids_keys_and_values_and_is_queryable(store: DocumentStore) -> None:
    text = "お疲れさまです。明日の会議の資料を共有します🙇"
    await store.set("users/ユーザー1/memories/記憶", {"内容": text, "相手": "部長"})
    assert await store.get("users/ユーザー1/memories/記憶") == {"内容": text, "相手": "部長"}
    found = await store.query("users/ユーザー1/memories", where=[Filter("相手", "==", "部長")])
    assert [(s.path, s.data["内容"]) for s in found] == [("users/ユーザー1/memories/記憶", text)]


async def test_japanese_and_punctuated_field_names_work_in_dotted_paths(store: DocumentStore) -> None:
    await store.set("users/u1", {"評価": {"共感力": 3, "明確な伝達力": 4}, "x-y": {"z w": 1}})
    await store.set("users/u2", {"評価": {"共感力": 5, "明確な伝達力": 2}, "x-y": {"z w": 0}})
    await store.update("users/u1", {"評価.共感力": 4, "x-y.z w": 2})
    assert await store.get("users/u1") == {"評価": {"共感力": 4, "明確な伝達力": 4}, "x-y": {"z w": 2}}
    assert await ids(store, "users", ("評価.共感力", ">=", 4), order_by="評価.共感力", descending=True) == ["u2", "u1"]
    assert await ids(store, "users", order_by="x-y.z w") == ["u2", "u1"]


async def test_strings_order_by_their_utf8_bytes(store: DocumentStore) -> None:
    await put_all(store, "words", {"kanji": {"w": "漢字"}, "hira": {"w": "ひらがな"}, "latin": {"w": "Zed"}})
    assert await ids(store, "words", order_by="w") == ["latin", "hira", "kanji"]


# --- transactions ----------------------------------------------------------------------------------


async def test_a_transaction_reads_modifies_and_writes_atomically(store: DocumentStore) -> None:
    await store.set("counters/c", {"v": 1, "label": "keep"})

    async def bump(tx: Transaction) -> int:
        current = await tx.get("counters/c")
        missing = await tx.get("counters/none")
        assert current is not None
        assert missing is None
        tx.update("counters/c", {"v": current["v"] + 1})
        tx.set("counters/log", {"last": current["v"] + 1})
        tx.set("counters/extra", {"m": {"a": 1}}, merge=True)
        return int(current["v"]) + 1

    assert await store.run_transaction(bump) == 2
    assert await store.get("counters/c") == {"v": 2, "label": "keep"}
    assert await store.get("counters/log") == {"last": 2}
    assert await store.get("counters/extra") == {"m": {"a": 1}}


async def test_transactions_merge_and_delete(store: DocumentStore) -> None:
    await store.set("docs/a", {"m": {"x": 1}, "k": 1})
    await store.set("docs/b", {"gone": True})

    async def change(tx: Transaction) -> None:
        tx.set("docs/a", {"m": {"y": 2}}, merge=True)
        tx.delete("docs/b")

    await store.run_transaction(change)
    assert await store.get("docs/a") == {"m": {"x": 1, "y": 2}, "k": 1}
    assert await store.get("docs/b") is None


async def test_concurrent_transactions_on_one_document_lose_no_update(store: DocumentStore) -> None:
    count = CONCURRENT_TRANSACTIONS[store.backend]
    await store.set("counters/shared", {"v": 0})

    async def increment(tx: Transaction) -> None:
        current = await tx.get("counters/shared")
        assert current is not None
        tx.update("counters/shared", {"v": current["v"] + 1})

    await asyncio.gather(*(store.run_transaction(increment, attempts=10) for _ in range(count)))
    assert await store.get("counters/shared") == {"v": count}


async def test_a_read_after_a_write_in_a_transaction_raises_and_nothing_is_written(store: DocumentStore) -> None:
    async def wrong_order(tx: Transaction) -> None:
        tx.set("docs/written", {"a": 1})
        await tx.get("docs/other")

    with pytest.raises(TransactionReadAfterWrite):
        await store.run_transaction(wrong_order)
    assert await store.get("docs/written") is None


async def test_an_exception_in_the_function_propagates_unchanged_and_nothing_is_written(
    store: DocumentStore,
) -> None:
    class Boom(Exception):
        pass

    calls = 0

    async def failing(tx: Transaction) -> None:
        nonlocal calls
        calls += 1
        await tx.get("docs/x")
        tx.set("docs/x", {"a": 1})
        raise Boom("no")

    with pytest.raises(Boom):
        await store.run_transaction(failing)
    assert calls == 1  # not retried: only contention is
    assert await store.get("docs/x") is None


async def test_a_transactional_update_of_a_missing_document_raises_not_found_and_writes_nothing(
    store: DocumentStore,
) -> None:
    async def update_missing(tx: Transaction) -> None:
        tx.set("docs/side", {"a": 1})
        tx.update("docs/missing", {"a": 1})

    with pytest.raises(NotFound):
        await store.run_transaction(update_missing)
    assert await store.get("docs/side") is None
    assert await store.get("docs/missing") is None


# --- health ----------------------------------------------------------------------------------------


async def test_ping_answers_when_the_store_serves(store: DocumentStore) -> None:
    await store.ping()
    assert store.backend in ("fake", "sqlite", "firestore")
