"""The Redis Cluster module and the topology switch: real tree compliant, each breakage caught."""

from __future__ import annotations

from tests.infra import redis_policies
from tests.infra.conftest import Workspace
from tests.infra.hcl import Tree

CLUSTER = "terraform/modules/redis_cluster/main.tf"
STACK = "terraform/modules/stack/platform.tf"


def test_the_real_tree_is_compliant(real_tree: Tree) -> None:
    assert redis_policies.redis_cluster_hardening(real_tree) == []
    assert redis_policies.redis_topology_wiring(real_tree) == []


def test_a_cluster_without_tls_is_caught(workspace: Workspace) -> None:
    workspace.edit(CLUSTER, '"TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION"', '"TRANSIT_ENCRYPTION_MODE_DISABLED"')
    problems = redis_policies.redis_cluster_hardening(workspace.tree())
    assert any("transit_encryption_mode" in p for p in problems), problems


def test_a_cluster_without_auth_is_caught(workspace: Workspace) -> None:
    workspace.edit(CLUSTER, 'var.iam_auth ? "AUTH_MODE_IAM_AUTH" : "AUTH_MODE_DISABLED"', '"AUTH_MODE_DISABLED"')
    problems = redis_policies.redis_cluster_hardening(workspace.tree())
    assert any("AUTH_MODE_IAM_AUTH" in p for p in problems), problems


def test_a_single_zone_cluster_or_one_without_replicas_is_caught(workspace: Workspace) -> None:
    workspace.edit(CLUSTER, 'mode = "MULTI_ZONE"', 'mode = "SINGLE_ZONE"')
    workspace.edit(CLUSTER, "replica_count               = var.replicas_per_shard", "replica_count               = 0")
    problems = redis_policies.redis_cluster_hardening(workspace.tree())
    assert any("MULTI_ZONE" in p for p in problems), problems
    assert any("replica_count" in p for p in problems), problems


def test_a_service_connection_policy_for_another_service_is_caught(workspace: Workspace) -> None:
    workspace.edit(CLUSTER, 'service_class = "gcp-memorystore-redis"', 'service_class = "gcp-memorystore"')
    problems = redis_policies.redis_cluster_hardening(workspace.tree())
    assert any("gcp-memorystore-redis" in p for p in problems), problems


def test_a_url_written_into_the_state_is_caught(workspace: Workspace) -> None:
    workspace.edit(CLUSTER, "secret_data_wo         = local.redis_url", "secret_data            = local.redis_url")
    problems = redis_policies.redis_cluster_hardening(workspace.tree())
    assert any("secret_data_wo" in p for p in problems), problems


def test_a_stack_that_builds_both_products_or_forgets_redis_mode_is_caught(workspace: Workspace) -> None:
    workspace.edit(STACK, 'count          = var.redis_topology == "instance" ? 1 : 0', "count          = 1")
    workspace.edit(
        "terraform/modules/stack/settings.tf",
        '  redis_mode         = var.redis_topology == "cluster" ? "cluster" : "standalone"\n',
        "",
    )
    problems = redis_policies.redis_topology_wiring(workspace.tree())
    assert any("module.redis must have count" in p for p in problems), problems
    assert any("REDIS_MODE" in p for p in problems), problems


def test_an_environment_that_does_not_say_which_redis_is_caught(workspace: Workspace) -> None:
    workspace.edit("terraform/environments/prod/terraform.tfvars", 'redis_topology  = "instance"\n', "")
    problems = redis_policies.redis_topology_wiring(workspace.tree())
    assert "prod: terraform.tfvars must set redis_topology to instance or cluster" in problems
