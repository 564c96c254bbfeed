"""Document paths, field paths and Firestore's write semantics over plain dicts, shared by the store adapters.

Both adapters validate paths and arguments here, so a bad path or an impossible update fails the same way
(``InvalidInput``) on SQLite and on Firestore. The merge and update rules reproduce what the Firestore
emulator does (checked by the contract suite), so the embedded store cannot drift from the cloud one.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Mapping
from typing import Any

from workplace_roleplay.errors import InvalidInput
from workplace_roleplay.ports import EXPIRES_AT, JsonValue

# Firestore Timestamps span years 1..9999; an expiry outside that could not be stored there.
_EXPIRY_RANGE_S = (-62_135_596_800.0, 253_402_300_799.0)


def _segments(path: str) -> list[str]:
    parts = path.split("/")
    if not path or any(not part for part in parts):
        raise InvalidInput(f"invalid store path {path!r}: empty segment")
    return parts


def check_document_path(path: str) -> str:
    """Return ``path`` if it names a document (an even number of segments)."""
    if len(_segments(path)) % 2:
        raise InvalidInput(f"invalid document path {path!r}: needs an even number of segments")
    return path


def check_collection_path(path: str) -> str:
    """Return ``path`` if it names a collection (an odd number of segments)."""
    if not len(_segments(path)) % 2:
        raise InvalidInput(f"invalid collection path {path!r}: needs an odd number of segments")
    return path


def parent_collection(document_path: str) -> str:
    """The collection a document lives in: ``users/u1/conversations/c1`` -> ``users/u1/conversations``."""
    return check_document_path(document_path).rsplit("/", 1)[0]


def split_field_path(field: str) -> list[str]:
    """Split a dotted field path (``profile.name``) into its map keys."""
    parts = field.split(".")
    if not field or any(not part for part in parts):
        raise InvalidInput(f"invalid field path {field!r}")
    return parts


def check_update_fields(fields: Mapping[str, JsonValue]) -> None:
    """Refuse updates Firestore refuses: no fields, or one field path inside another (``a`` and ``a.b``)."""
    if not fields:
        raise InvalidInput("an update needs at least one field")
    paths = sorted(tuple(split_field_path(key)) for key in fields)
    for shorter, longer in itertools.pairwise(paths):
        if longer[: len(shorter)] == shorter:
            raise InvalidInput(f"update fields overlap: {'.'.join(shorter)!r} and {'.'.join(longer)!r}")


def check_window(limit: int | None, offset: int) -> None:
    """Refuse negative query limits and offsets."""
    if limit is not None and limit < 0:
        raise InvalidInput("query limit must not be negative")
    if offset < 0:
        raise InvalidInput("query offset must not be negative")


def check_json_values(data: Mapping[str, Any]) -> None:
    """Refuse what is not JSON (sets, bytes, datetimes, NaN, non-string keys...), which Firestore would store
    as something SQLite cannot, so both adapters accept exactly the same documents."""
    stack: list[Any] = [data]
    while stack:
        value = stack.pop()
        if value is None or isinstance(value, bool | int | str):
            continue
        if isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidInput("document values must be finite numbers")
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, Mapping):
            if not all(isinstance(key, str) for key in value):
                raise InvalidInput("document map keys must be strings")
            stack.extend(value.values())
        else:
            raise InvalidInput(f"document values must be JSON-compatible, not {type(value).__name__}")


def merge_documents(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``set(merge=True)``: maps merge key by key at every depth; anything else, and empty maps, replace."""
    merged = copy.deepcopy(dict(base))
    for key, value in patch.items():
        current = merged.get(key)
        # Firestore turns a merge into field paths to the leaves; an empty map is itself a leaf.
        if isinstance(value, Mapping) and value and isinstance(current, dict):
            merged[key] = merge_documents(current, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def apply_update(base: Mapping[str, Any], fields: Mapping[str, JsonValue]) -> dict[str, Any]:
    """``update``: each (dotted) key replaces the value at its path, creating or overwriting maps on the way."""
    check_update_fields(fields)
    updated = copy.deepcopy(dict(base))
    for key, value in fields.items():
        *parents, leaf = split_field_path(key)
        node = updated
        for name in parents:
            child = node.get(name)
            if not isinstance(child, dict):
                child = {}
                node[name] = child
            node = child
        node[leaf] = copy.deepcopy(value)
    return updated


def expiry_seconds(value: JsonValue) -> float | None:
    """The reserved ``expires_at`` value as both adapters store it: epoch seconds rounded to microseconds
    (Firestore's Timestamp precision, so a round trip returns the same float), or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{EXPIRES_AT} is reserved for the document's expiry: epoch seconds or null")
    if not _EXPIRY_RANGE_S[0] <= value <= _EXPIRY_RANGE_S[1]:
        raise InvalidInput(f"{EXPIRES_AT} must fall within the years 1 to 9999")
    return round(float(value), 6)


def normalize_expiry(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` (a document or an update's fields) with a top-level ``expires_at`` normalized."""
    normalized = dict(data)
    if EXPIRES_AT in normalized:
        normalized[EXPIRES_AT] = expiry_seconds(normalized[EXPIRES_AT])
    return normalized
