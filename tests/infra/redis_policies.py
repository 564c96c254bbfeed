"""Policies for the Redis topology (ADR 0019): the cluster module is hardened; the stack wires either product."""

from __future__ import annotations

from tests.infra.hcl import Block, Tree, first, load_tfvars

CLUSTER = "google_redis_cluster"
PSC_POLICY = "google_network_connectivity_service_connection_policy"
TOPOLOGIES = ("instance", "cluster")


def _one(tree: Tree, rtype: str, problems: list[str]) -> Block | None:
    found = tree.resources(rtype)
    if len(found) != 1:
        problems.append(f"expected one {rtype} (modules/redis_cluster), found {len(found)}")
        return None
    return found[0]


def _variable(tree: Tree, module: str, name: str) -> dict[str, object]:
    for block in tree.blocks:
        if block.kind == "variable" and block.module_dir == tree.module(module) and block.labels[0] == name:
            return dict(block.body)
    return {}


def redis_cluster_hardening(tree: Tree) -> list[str]:
    """TLS with server authentication, IAM auth, replicas across zones, PSC policy, secrets never in state."""
    problems: list[str] = []
    cluster = _one(tree, CLUSTER, problems)
    if cluster is None:
        return problems
    body = cluster.body
    where = f"{cluster.address}"
    if body.get("transit_encryption_mode") != "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION":
        problems.append(f"{where}: transit_encryption_mode must be TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION")
    if "AUTH_MODE_IAM_AUTH" not in str(body.get("authorization_mode", "")):
        problems.append(f"{where}: authorization_mode must offer AUTH_MODE_IAM_AUTH (var.iam_auth)")
    if first(body, "zone_distribution_config").get("mode") != "MULTI_ZONE":
        problems.append(f"{where}: zone_distribution_config.mode must be MULTI_ZONE")
    if body.get("deletion_protection_enabled") is False:
        problems.append(f"{where}: deletion_protection_enabled must not be hard-coded false")
    if (body.get("redis_configs") or {}).get("maxmemory-policy") != "volatile-ttl":
        problems.append(f"{where}: redis_configs must set maxmemory-policy = volatile-ttl (every key has a TTL)")
    if not first(body, "psc_configs").get("network"):
        problems.append(f"{where}: psc_configs.network is required (Private Service Connect)")
    replicas = _variable(tree, "redis_cluster", "replicas_per_shard")
    if body.get("replica_count") != "${var.replicas_per_shard}" or ">= 1" not in str(replicas.get("validation", "")):
        problems.append(f"{where}: replica_count must come from var.replicas_per_shard, validated >= 1")
    policy = _one(tree, PSC_POLICY, problems)
    if policy is not None and policy.body.get("service_class") != "gcp-memorystore-redis":
        problems.append(f"{policy.address}: service_class must be gcp-memorystore-redis")
    if policy is not None and "depends_on" in body and PSC_POLICY not in str(body["depends_on"]):
        problems.append(f"{where}: must depend on the service connection policy")
    for version in tree.resources("google_secret_manager_secret_version"):
        if version.module_dir == tree.module("redis_cluster") and "secret_data" in version.body:
            problems.append(f"{version.address}: use secret_data_wo (the URL and CA must not land in the state)")
    members = [b for b in tree.resources("google_project_iam_member") if b.module_dir == tree.module("redis_cluster")]
    if not any(b.body.get("role") == "roles/redis.dbConnectionUser" for b in members):
        problems.append("modules/redis_cluster: the services' accounts need roles/redis.dbConnectionUser for IAM auth")
    return problems


def redis_topology_wiring(tree: Tree) -> list[str]:
    """Each environment says which product it uses; the stack builds exactly that one and tells the services."""
    problems: list[str] = []
    stack = tree.root / "modules" / "stack"
    calls = {b.labels[0]: b.body for b in tree.module_calls("modules/stack")}
    expected_count = {
        "redis": '${var.redis_topology == "instance" ? 1 : 0}',
        "redis_cluster": '${var.redis_topology == "cluster" ? 1 : 0}',
    }
    for name, count in expected_count.items():
        if calls.get(name, {}).get("count") != count:
            problems.append(f"stack: module.{name} must have count = {count[2:-1]}")
    config = calls.get("config", {})
    if "var.redis_topology" not in str(config.get("redis_mode", "")):
        problems.append("stack: module.config.redis_mode must follow var.redis_topology (REDIS_MODE)")
    if "var.redis_topology" not in str(config.get("redis_iam_auth", "")):
        problems.append("stack: module.config.redis_iam_auth must follow var.redis_topology (REDIS_IAM_AUTH)")
    if "module.redis." in "".join(p.read_text(encoding="utf-8") for p in stack.glob("*.tf")):
        problems.append("stack: refer to local.redis (the chosen product), not module.redis directly")
    for env_dir in tree.environments():
        topology = load_tfvars(env_dir / "terraform.tfvars").get("redis_topology")
        if topology not in TOPOLOGIES:
            problems.append(f"{env_dir.name}: terraform.tfvars must set redis_topology to instance or cluster")
    return problems
