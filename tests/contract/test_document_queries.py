"""The ``DocumentStore`` contract for queries (filters, order, limit, offset) on SQLite and the Firestore emulator.

Expected results were first observed on the emulator; the SQLite adapter must agree with them.
"""

from __future__ import annotations

import pytest

from tests.contract.documents import MIXED, ids, put_all
from workplace_roleplay.errors import InvalidInput
from workplace_roleplay.ports import DocumentStore, FilterOp

# Concurrent transactions on one document: the emulator resolves contention slowly (~2 s per conflict),
# so its leg runs fewer of them.
CONCURRENT_TRANSACTIONS = {"sqlite": 8, "firestore": 3}


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
