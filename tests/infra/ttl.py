"""Firestore TTL policies against what the code writes: the store's reserved expiry field, per collection."""

from __future__ import annotations

from tests.infra.hcl import Tree
from workplace_roleplay.ports import EXPIRES_AT


def ttl_policies(tree: Tree, expiring: dict[str, bool]) -> list[str]:
    """``expiring``: collection -> whether a query filters on its expiry (observed from the repositories).

    Every such collection has a TTL policy on ``EXPIRES_AT`` (the field the Firestore adapter writes as a
    Timestamp), marked queried exactly when a query needs its single-field index; no policy names a field
    or collection the code never writes (it would silently never fire).
    """
    problems: list[str] = []
    variables = [b for b in tree.blocks if b.kind == "variable" and b.labels == ("ttl_fields",)]
    if len(variables) != 1:
        return ["modules/firestore: expected one variable ttl_fields"]
    declared: dict[str, dict[str, object]] = variables[0].body.get("default", {})
    for collection, spec in sorted(declared.items()):
        if spec.get("field") != EXPIRES_AT:
            problems.append(f"ttl_fields.{collection}: field {spec.get('field')!r} is not the store's {EXPIRES_AT!r}")
        if collection not in expiring:
            problems.append(f"ttl_fields.{collection}: no repository writes {EXPIRES_AT} there")
        elif spec.get("queried") is not expiring[collection]:
            problems.append(f"ttl_fields.{collection}: queried must be {expiring[collection]} (its queries' needs)")
    for collection in sorted(set(expiring) - set(declared)):
        problems.append(f"{collection}: documents carry {EXPIRES_AT} but no TTL policy deletes them")
    for field in tree.resources("google_firestore_field"):
        if field.body.get("field") != "${each.value.field}" or field.body.get("ttl_config") != [{}]:
            problems.append(f"{field.address}: must enable ttl_config on each.value.field")
    return problems
