"""The ``DocumentStore`` port contract, run against SQLite (in tmp_path) and the official Firestore emulator.

Expected results were first observed on the emulator; the SQLite adapter must agree with them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from workplace_roleplay.errors import AlreadyExists, InvalidInput, NotFound, TransactionReadAfterWrite
from workplace_roleplay.ports import DocumentStore, Filter, FilterOp, Transaction

# Concurrent transactions on one document: the emulator resolves contention slowly (~2 s per conflict),
# so its leg runs fewer of them.
CONCURRENT_TRANSACTIONS = {"sqlite": 8, "firestore": 3}


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


# --- queries ---------------------------------------------------------------------------------------


async def test_equality_matches_only_values_of_the_same_type(store: DocumentStore) -> None:
    await put_all(store, "mixed", MIXED)
    assert await ids(store, "mixed", ("x", "==", 1)) == ["d_one", "e_one_float"]
    assert await ids(store, "mixed", ("x", "==", "1")) == ["g_str"]
    assert await ids(store, "mixed", ("x", "==", True)) == ["c_true"]
    assert await ids(store, "mixed", ("x", "==", None)) == ["a_null"]
    assert await ids(store, "mixed", ("x", "==", [1])) == ["h_array"]
    assert await ids(store, "mixed", ("x", "==", {"k": 1})) == ["i_map"]


async def test_not_equal_skips_documents_where_the_field_is_missing_or_null(store: DocumentStore) -> None:
    await put_all(store, "mixed", MIXED)
    expected = ["b_false", "c_true", "f_two_half", "g_str", "h_array", "i_map"]
    assert await ids(store, "mixed", ("x", "!=", 1)) == expected
    everything_set = ["b_false", "c_true", "d_one", "e_one_float", "f_two_half", "g_str", "h_array", "i_map"]
    assert await ids(store, "mixed", ("x", "!=", None)) == everything_set


async def test_range_filters_compare_within_a_type(store: DocumentStore) -> None:
    await put_all(store, "mixed", MIXED)
    assert await ids(store, "mixed", ("x", ">", 0)) == ["d_one", "e_one_float", "f_two_half"]
    assert await ids(store, "mixed", ("x", ">=", "")) == ["g_str"]
    assert await ids(store, "mixed", ("x", "<=", True)) == ["b_false", "c_true"]


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("<", ["n1", "n2"]),
        ("<=", ["n1", "n2", "n3"]),
        (">", ["n4", "n5"]),
        (">=", ["n3", "n4", "n5"]),
        ("==", ["n3"]),
        ("!=", ["n1", "n2", "n4", "n5"]),
    ],
)
async def test_comparison_operators_on_numbers(store: DocumentStore, op: FilterOp, expected: list[str]) -> None:
    await put_all(store, "nums", {f"n{i}": {"v": i} for i in range(1, 6)})
    assert await ids(store, "nums", ("v", op, 3)) == expected


async def test_in_matches_any_listed_value(store: DocumentStore) -> None:
    await put_all(store, "mixed", MIXED)
    assert await ids(store, "mixed", ("x", "in", [1, "1", [1], {"k": 1}])) == [
        "d_one",
        "e_one_float",
        "g_str",
        "h_array",
        "i_map",
    ]
    # Firestore's 'in' never matches null, even when asked to (observed on the emulator).
    assert await ids(store, "mixed", ("x", "in", [None, True])) == ["c_true"]
    assert await ids(store, "mixed", ("x", "in", [None])) == []
    with pytest.raises(InvalidInput):
        await ids(store, "mixed", ("x", "in", []))


async def test_several_filters_all_apply(store: DocumentStore) -> None:
    await put_all(
        store,
        "convs",
        {
            "c1": {"mode": "chat", "turns": 3},
            "c2": {"mode": "chat", "turns": 9},
            "c3": {"mode": "scenario", "turns": 5},
            "c4": {"mode": "chat", "turns": 6},
        },
    )
    found = await ids(store, "convs", ("mode", "==", "chat"), ("turns", ">", 4), ("turns", "<", 9))
    assert found == ["c4"]


async def test_filters_and_order_reach_into_nested_maps_with_dotted_fields(store: DocumentStore) -> None:
    await put_all(
        store,
        "users",
        {
            "u1": {"profile": {"level": 2, "score": 30}},
            "u2": {"profile": {"level": 2, "score": 10}},
            "u3": {"profile": {"level": 1, "score": 20}},
            "u4": {"profile": "not a map"},
        },
    )
    assert await ids(store, "users", ("profile.level", "==", 2), order_by="profile.score") == ["u2", "u1"]
    assert await ids(store, "users", order_by="profile.score", descending=True) == ["u1", "u3", "u2"]


async def test_order_by_skips_documents_without_the_field_and_breaks_ties_by_id(store: DocumentStore) -> None:
    await put_all(
        store,
        "msgs",
        {"m1": {"at": 20}, "m2": {"at": 10}, "m3": {"other": 1}, "m4": {"at": 20}, "m5": {"at": 30.5}},
    )
    assert await ids(store, "msgs", order_by="at") == ["m2", "m1", "m4", "m5"]
    assert await ids(store, "msgs", order_by="at", descending=True) == ["m5", "m4", "m1", "m2"]


async def test_order_across_types_follows_firestores_type_order(store: DocumentStore) -> None:
    await put_all(store, "mixed", MIXED)
    ascending = ["a_null", "b_false", "c_true", "d_one", "e_one_float", "f_two_half", "g_str", "h_array", "i_map"]
    assert await ids(store, "mixed", order_by="x") == ascending
    assert await ids(store, "mixed", order_by="x", descending=True) == ascending[::-1]


async def test_an_inequality_without_order_by_orders_by_the_filtered_field(store: DocumentStore) -> None:
    await put_all(store, "r", {"r1": {"n": 3, "s": "b"}, "r2": {"n": 1, "s": "c"}, "r3": {"n": 2, "s": "a"}})
    assert await ids(store, "r", ("n", ">", 0)) == ["r2", "r3", "r1"]
    assert await ids(store, "r", ("n", ">", 0), order_by="s") == ["r3", "r1", "r2"]


async def test_ties_fall_back_to_inequality_fields_then_id_in_the_direction_of_the_order(
    store: DocumentStore,
) -> None:
    await put_all(
        store,
        "o",
        {
            "a": {"n": 2, "s": "x"},
            "b": {"n": 1, "s": "x"},
            "c": {"n": 3, "s": "y"},
            "d": {"n": 1, "s": "x"},
            "e": {"n": 5},
            "f": {"n": "text", "s": "x"},
        },
    )
    assert await ids(store, "o", ("n", ">", 0), order_by="s", descending=True) == ["c", "a", "d", "b"]
    assert await ids(store, "o", ("n", ">", 0), order_by="s") == ["b", "d", "a", "c"]
    assert await ids(store, "o", ("n", "!=", 2), ("s", ">=", "")) == ["b", "d", "c", "f"]
    assert await ids(store, "o", ("s", "==", "x"), order_by="n", descending=True) == ["f", "a", "d", "b"]


async def test_a_query_without_order_returns_documents_by_id(store: DocumentStore) -> None:
    await put_all(store, "plain", {doc_id: {"v": 1} for doc_id in ["b", "c", "a", "e", "d"]})
    assert await ids(store, "plain") == ["a", "b", "c", "d", "e"]
    assert await ids(store, "plain", ("v", "==", 1)) == ["a", "b", "c", "d", "e"]


async def test_limit_and_offset_page_through_ordered_results(store: DocumentStore) -> None:
    await put_all(store, "page", {f"p{i}": {"i": i} for i in range(7)})
    assert await ids(store, "page", order_by="i", limit=3) == ["p0", "p1", "p2"]
    assert await ids(store, "page", order_by="i", limit=3, offset=3) == ["p3", "p4", "p5"]
    assert await ids(store, "page", order_by="i", limit=3, offset=6) == ["p6"]
    assert await ids(store, "page", order_by="i", offset=5) == ["p5", "p6"]
    assert await ids(store, "page", order_by="i", descending=True, limit=2, offset=1) == ["p5", "p4"]
    assert await ids(store, "page", order_by="i", limit=0) == []
    with pytest.raises(InvalidInput):
        await ids(store, "page", limit=-1)


async def test_query_results_carry_path_and_data(store: DocumentStore) -> None:
    await store.set("users/u1/reports/r1", {"score": 4, "axes": {"empathy": 3}})
    [snapshot] = await store.query("users/u1/reports")
    assert snapshot.path == "users/u1/reports/r1"
    assert snapshot.id == "r1"
    assert snapshot.data == {"score": 4, "axes": {"empathy": 3}}


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
    assert store.backend in ("sqlite", "firestore")
