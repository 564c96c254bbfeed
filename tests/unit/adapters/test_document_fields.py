"""Paths, field paths and Firestore's merge / update rules over plain dicts (shared by both store adapters)."""

from __future__ import annotations

import pytest

from workplace_roleplay.adapters.document_fields import (
    apply_update,
    check_collection_path,
    check_document_path,
    check_update_fields,
    check_window,
    merge_documents,
    parent_collection,
    split_field_path,
)
from workplace_roleplay.adapters.sqlite_query import json_path
from workplace_roleplay.errors import InvalidInput


@pytest.mark.parametrize("path", ["users/u1", "users/u1/conversations/c1", "会話/一"])
def test_document_paths_have_an_even_number_of_segments(path: str) -> None:
    assert check_document_path(path) == path


@pytest.mark.parametrize("path", ["users", "users/u1/conversations", "", "users//u1", "/users/u1", "users/u1/"])
def test_other_shapes_are_not_document_paths(path: str) -> None:
    with pytest.raises(InvalidInput):
        check_document_path(path)


def test_collection_paths_have_an_odd_number_of_segments() -> None:
    assert check_collection_path("users/u1/memories") == "users/u1/memories"
    with pytest.raises(InvalidInput):
        check_collection_path("users/u1")


def test_parent_collection() -> None:
    assert parent_collection("users/u1/conversations/c1") == "users/u1/conversations"
    assert parent_collection("users/u1") == "users"


def test_field_paths_split_on_dots_and_refuse_empty_parts() -> None:
    assert split_field_path("profile.name") == ["profile", "name"]
    assert split_field_path("評価") == ["評価"]
    for bad in ["", ".a", "a.", "a..b"]:
        with pytest.raises(InvalidInput):
            split_field_path(bad)


def test_json_paths_quote_every_key() -> None:
    assert json_path("a.0.x-y") == '$."a"."0"."x-y"'
    with pytest.raises(InvalidInput):
        json_path('a."b')


def test_merge_goes_deep_into_maps_and_lets_other_values_replace() -> None:
    base = {"a": 1, "m": {"x": 1, "n": {"p": 1}}, "l": [1, 2], "e": {"k": 1}}
    patch = {"m": {"n": {"q": 2}}, "l": [3], "e": {}, "new": {"z": 1}}
    assert merge_documents(base, patch) == {
        "a": 1,
        "m": {"x": 1, "n": {"p": 1, "q": 2}},
        "l": [3],  # arrays replace, they do not concatenate
        "e": {},
        "new": {"z": 1},
    }
    assert base["m"] == {"x": 1, "n": {"p": 1}}  # inputs are not mutated


def test_update_follows_dotted_paths_and_replaces_what_is_in_the_way() -> None:
    base = {"m": {"x": 1}, "s": "scalar"}
    assert apply_update(base, {"m.y": 2, "s.t": 3, "a.b.c": 4}) == {
        "m": {"x": 1, "y": 2},
        "s": {"t": 3},
        "a": {"b": {"c": 4}},
    }
    assert base == {"m": {"x": 1}, "s": "scalar"}


@pytest.mark.parametrize("fields", [{}, {"a": 1, "a.b": 2}, {"a.b": 1, "a.b.c": 2}, {"": 1}])
def test_updates_firestore_refuses_are_refused(fields: dict[str, int]) -> None:
    with pytest.raises(InvalidInput):
        check_update_fields(fields)


def test_sibling_paths_do_not_overlap() -> None:
    check_update_fields({"a.b": 1, "a.c": 2, "ab": 3, "a.bc": 4})


def test_negative_windows_are_refused() -> None:
    check_window(None, 0)
    check_window(0, 10)
    with pytest.raises(InvalidInput):
        check_window(-1, 0)
    with pytest.raises(InvalidInput):
        check_window(None, -1)
