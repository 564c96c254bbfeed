"""Compiles a document-store query into SQL over ``json_extract``, comparing values the way Firestore does.

Firestore compares values only within a type (numbers with numbers, strings with strings, booleans with
booleans), orders across types as null < booleans < numbers < strings < arrays < maps, skips documents that
lack a filtered or ordered field, and orders ties by document id. The rules below reproduce that; the
contract suite runs the same queries against the Firestore emulator.

Limits (outside what the application uses): arrays and maps may be compared for equality only, and an
order over arrays or maps follows their JSON text rather than Firestore's element-wise order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Literal

from workplace_roleplay.adapters.document_fields import split_field_path
from workplace_roleplay.adapters.sqlite_documents import LIVE_SQL
from workplace_roleplay.errors import InvalidInput
from workplace_roleplay.ports import Filter, JsonValue

TypeClass = Literal["null", "boolean", "number", "string", "array", "map"]

# Firestore's order across types; booleans share a rank and then order false < true through 0/1.
_RANK_SQL = (
    "CASE json_type(data, ?) WHEN 'null' THEN 0 WHEN 'false' THEN 1 WHEN 'true' THEN 1 "
    "WHEN 'integer' THEN 2 WHEN 'real' THEN 2 WHEN 'text' THEN 3 WHEN 'array' THEN 4 "
    "WHEN 'object' THEN 5 END"
)
_JSON_TYPES: dict[TypeClass, tuple[str, ...]] = {
    "null": ("null",),
    "boolean": ("true", "false"),
    "number": ("integer", "real"),
    "string": ("text",),
    "array": ("array",),
    "map": ("object",),
}
_RANGE_OPS = frozenset({"<", "<=", ">", ">="})
_INEQUALITY_OPS = _RANGE_OPS | {"!="}


def json_path(field: str) -> str:
    """``profile.name`` -> ``$."profile"."name"`` (quoted, so digits and dashes stay map keys)."""
    parts = split_field_path(field)
    if any('"' in part or "\\" in part for part in parts):
        raise InvalidInput(f"field path {field!r} may not contain quotes or backslashes")
    return "$." + ".".join(f'"{part}"' for part in parts)


def type_class(value: JsonValue) -> TypeClass:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            raise InvalidInput("NaN cannot be stored or compared")
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "map"
    raise InvalidInput(f"unsupported filter value of type {type(value).__name__}")


def _type_is(path: str, kind: TypeClass) -> tuple[str, list[object]]:
    names = _JSON_TYPES[kind]
    marks = ", ".join("?" for _ in names)
    return f"json_type(data, ?) IN ({marks})", [path, *names]


def _equals(path: str, value: JsonValue) -> tuple[str, list[object]]:
    kind = type_class(value)
    if kind == "null":
        return "json_type(data, ?) = 'null'", [path]
    if kind == "boolean":
        return "json_type(data, ?) = ?", [path, "true" if value else "false"]
    guard, params = _type_is(path, kind)
    if kind in ("array", "map"):
        # Stored JSON is canonical (sorted keys, compact), and json_extract renders sub-values the same way.
        operand: object = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    else:
        operand = value
    return f"({guard} AND json_extract(data, ?) = ?)", [*params, path, operand]


def _condition(item: Filter) -> tuple[str, list[object]]:
    path = json_path(item.field)
    if item.op == "==":
        return _equals(path, item.value)
    if item.op == "!=":
        # Firestore's != also skips documents where the field is missing or null.
        sql, params = _equals(path, item.value)
        return f"(json_type(data, ?) NOT IN ('null') AND NOT {sql})", [path, *params]
    if item.op == "in":
        if not isinstance(item.value, list | tuple) or not item.value:
            raise InvalidInput("an 'in' filter needs a non-empty list of values")
        # Firestore's 'in' never matches null, even when the list holds None (checked on the emulator).
        parts = [_equals(path, value) for value in item.value if value is not None]
        if not parts:
            return "0", []
        return "(" + " OR ".join(sql for sql, _ in parts) + ")", [p for _, params in parts for p in params]
    if item.op in _RANGE_OPS:
        kind = type_class(item.value)
        if kind not in ("boolean", "number", "string"):
            raise InvalidInput(f"range filters compare numbers, strings or booleans, not {kind}")
        guard, params = _type_is(path, kind)
        operand = int(item.value) if kind == "boolean" else item.value
        return f"({guard} AND json_extract(data, ?) {item.op} ?)", [*params, path, operand]
    raise InvalidInput(f"unsupported filter operator {item.op!r}")


def compile_query(
    collection: str,
    where: Sequence[Filter],
    order_by: str | None,
    descending: bool,
    limit: int | None,
    offset: int,
    *,
    now: float,
) -> tuple[str, list[object]]:
    """SQL and parameters selecting ``path, data`` of the matching live documents (not expired at ``now``),
    in Firestore's order."""
    clauses = ["collection = ?", LIVE_SQL]
    params: list[object] = [collection, now]
    for item in where:
        sql, more = _condition(item)
        clauses.append(sql)
        params.extend(more)

    # Firestore orders by the explicit field, then by every inequality field (lexicographically), then by
    # document id, all in the direction of the explicit order.
    fields = [order_by] if order_by else []
    fields += sorted({f.field for f in where if f.op in _INEQUALITY_OPS} - set(fields))
    direction = "DESC" if descending else "ASC"
    order_terms: list[str] = []
    order_params: list[object] = []
    for field in fields:
        path = json_path(field)
        clauses.append("json_type(data, ?) IS NOT NULL")
        params.append(path)
        order_terms += [f"{_RANK_SQL} {direction}", f"json_extract(data, ?) {direction}"]
        order_params += [path, path]
    order_terms.append(f"path {direction}")

    # Only fixed SQL fragments are joined here; every value and JSON path is a bound parameter.
    sql = f"SELECT path, data FROM documents WHERE {' AND '.join(clauses)} ORDER BY {', '.join(order_terms)}"  # noqa: S608
    sql += " LIMIT ? OFFSET ?"
    # SQLite reads LIMIT -1 as "no limit"; OFFSET needs a LIMIT clause.
    return sql, [*params, *order_params, -1 if limit is None else limit, offset]
