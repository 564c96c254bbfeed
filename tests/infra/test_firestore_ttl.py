"""The Firestore TTL policies name the field and collections the repositories really write (and query)."""

from __future__ import annotations

from tests.infra import ttl
from tests.infra.conftest import Workspace
from tests.infra.hcl import Tree
from tests.support.fakes import FakeStore
from tests.support.identity import identity_kit
from workplace_roleplay.ports import EXPIRES_AT


async def _observed_expiring_collections() -> dict[str, bool]:
    """Run the repositories that hold ephemeral data; collect where they write and query the expiry."""
    store = FakeStore()
    kit = identity_kit(store)
    signed = await kit.identity.sign_in_anonymously()
    kit.clock.advance(60)
    await kit.identity.refresh(signed.refresh_token or "")
    await kit.identity.refresh_tokens.purge_expired()
    written = {path.rsplit("/", 1)[0] for path, doc in store.docs.items() if EXPIRES_AT in doc}
    filtered = {(c, f.field) for c, where in store.queried for f in where}
    return {c: (c, EXPIRES_AT) in filtered for c in written}


async def test_ttl_policies_match_the_expiry_the_repositories_write(real_tree: Tree) -> None:
    expiring = await _observed_expiring_collections()
    assert expiring == {"refresh_tokens": True, "refresh_families": False}
    assert ttl.ttl_policies(real_tree, expiring) == []


async def test_a_ttl_policy_on_another_field_or_an_unwritten_collection_is_caught(workspace: Workspace) -> None:
    variables = "terraform/modules/firestore/variables.tf"
    workspace.edit(variables, 'refresh_families = { field = "expires_at"', 'refresh_families = { field = "ttl_at"')
    unwritten = '\n    legacy_migrations = { field = "expires_at", queried = false }'
    workspace.edit(variables, "queried = true }", "queried = true }" + unwritten)
    expiring = await _observed_expiring_collections()
    assert ttl.ttl_policies(workspace.tree(), expiring) == [
        "ttl_fields.legacy_migrations: no repository writes expires_at there",
        "ttl_fields.refresh_families: field 'ttl_at' is not the store's 'expires_at'",
    ]


async def test_a_collection_without_a_policy_or_with_the_wrong_index_choice_is_caught(workspace: Workspace) -> None:
    variables = "terraform/modules/firestore/variables.tf"
    workspace.edit(variables, '    refresh_families = { field = "expires_at", queried = false }\n', "")
    workspace.edit(variables, "queried = true }", "queried = false }")
    expiring = await _observed_expiring_collections()
    assert ttl.ttl_policies(workspace.tree(), expiring) == [
        "ttl_fields.refresh_tokens: queried must be True (its queries' needs)",
        "refresh_families: documents carry expires_at but no TTL policy deletes them",
    ]
