"""The real Terraform tree satisfies every infrastructure policy."""

from __future__ import annotations

from pathlib import Path

from tests.infra import policies
from tests.infra.hcl import Tree, load_tfvars
from tests.infra.render import load_catalog
from tools.settings_export import export


def test_every_catalog_service_has_run_service_backend_and_routes(real_tree: Tree, catalog_path: Path) -> None:
    assert policies.catalog_coverage(real_tree, catalog_path) == []


def test_serverless_backends_have_no_timeout_health_check_or_affinity(real_tree: Tree) -> None:
    assert policies.serverless_backend_hygiene(real_tree) == []


def test_load_balancer_is_external_managed_everywhere(real_tree: Tree) -> None:
    assert policies.external_managed(real_tree) == []


def test_serverless_negs_create_before_destroy(real_tree: Tree) -> None:
    assert policies.neg_create_before_destroy(real_tree) == []


def test_worker_is_private_and_nothing_grants_all_users(real_tree: Tree) -> None:
    assert policies.worker_not_public(real_tree) == []


def test_cloud_run_lifecycle_matches_the_ownership_adr(real_tree: Tree) -> None:
    assert policies.run_service_lifecycle(real_tree) == []


def test_services_working_after_their_response_keep_the_cpu_allocated(real_tree: Tree, catalog_path: Path) -> None:
    assert policies.background_work_cpu(real_tree, catalog_path) == []


def test_the_catalog_flags_background_work_where_the_code_does_it(catalog_path: Path) -> None:
    catalog = load_catalog(catalog_path)
    assert {name for name, svc in catalog.items() if svc.get("background_work")} == {"chat", "scenario", "watch"}
    assert catalog["migrate_session"]["background_work"] is False


def test_traffic_splits_sum_to_100_in_every_environment(real_tree: Tree, catalog_path: Path) -> None:
    assert policies.traffic_splits(real_tree, catalog_path) == []


def test_every_secret_read_has_a_secret_resource_iam_and_pinned_version(real_tree: Tree) -> None:
    assert policies.secrets_declared(real_tree) == []


def test_required_production_settings_come_from_env_or_secrets(real_tree: Tree) -> None:
    settings = export()
    assert set(settings) == {"chat", "scenario", "watch", "migrate_session"}
    assert any(spec.required_in_cloud for spec in settings["chat"].values())
    assert policies.required_settings(real_tree, settings) == []


def test_the_tree_has_the_modules_the_issue_lists(real_tree: Tree) -> None:
    types = {b.labels[0] for b in real_tree.blocks if b.kind == "resource"}
    expected = {
        "google_cloud_run_v2_service",
        "google_compute_region_network_endpoint_group",
        "google_compute_global_network_endpoint_group",
        "google_compute_backend_service",
        "google_compute_url_map",
        "google_compute_security_policy",
        "google_compute_global_address",
        "google_certificate_manager_certificate",
        "google_redis_instance",
        "google_secret_manager_secret",
        "google_firestore_database",
        "google_firestore_field",
        "google_firestore_index",
        "google_cloud_tasks_queue",
        "google_artifact_registry_repository",
        "google_monitoring_alert_policy",
        "google_monitoring_uptime_check_config",
        "google_monitoring_dashboard",
        "google_cloudbuild_trigger",
    }
    assert expected <= types, sorted(expected - types)


def test_data_stores_are_hardened_where_users_are(real_tree: Tree) -> None:
    redis = real_tree.resources("google_redis_instance")[0].body
    assert redis["auth_enabled"] is True
    assert redis["transit_encryption_mode"] == "SERVER_AUTHENTICATION"
    firestore = real_tree.resources("google_firestore_database")[0].body
    assert firestore["point_in_time_recovery_enablement"] == "POINT_IN_TIME_RECOVERY_ENABLED"
    assert firestore["type"] == "FIRESTORE_NATIVE"
    stack_vars = {
        b.labels[0]: b.body for b in real_tree.blocks if b.kind == "variable" and b.module_dir.name == "stack"
    }
    assert stack_vars["redis_tier"]["default"] == "STANDARD_HA"
    assert stack_vars["deletion_protection"]["default"] is True
    for env in ("staging", "prod"):
        tfvars = load_tfvars(real_tree.root / "environments" / env / "terraform.tfvars")
        assert tfvars.get("redis_tier", "STANDARD_HA") == "STANDARD_HA", env
        assert tfvars.get("deletion_protection", True) is True, env
    ttl = real_tree.resources("google_firestore_field")[0].body
    assert "ttl_config" in ttl


def test_every_variable_is_typed_and_described(real_tree: Tree) -> None:
    variables = [b for b in real_tree.blocks if b.kind == "variable"]
    assert len(variables) > 100
    for variable in variables:
        assert variable.body.get("description"), f"{variable.address} has no description"
        assert "type" in variable.body, f"{variable.address} has no type"
    outputs = [b for b in real_tree.blocks if b.kind == "output"]
    assert all(o.body.get("description") for o in outputs), [
        o.address for o in outputs if not o.body.get("description")
    ]


def test_for_each_keys_are_known_at_plan_time(real_tree: Tree) -> None:
    assert policies.for_each_known_at_plan(real_tree) == []


def test_every_terraform_file_parses(real_tree: Tree) -> None:
    files = sorted(p for p in real_tree.root.rglob("*.tf") if ".terraform" not in p.parts)
    parsed = {b.file for b in real_tree.blocks} | {d / "main.tf" for d in real_tree.locals}
    assert len(files) > 60
    empty = [str(f.relative_to(real_tree.root)) for f in files if f not in parsed]
    assert empty == [], f"files with no block python-hcl2 could read: {empty}"
    for env_dir in real_tree.environments():
        assert load_tfvars(env_dir / "terraform.tfvars")["environment"] == env_dir.name


def test_versions_are_pinned_and_each_environment_has_its_own_state(real_tree: Tree) -> None:
    settings = [b for b in real_tree.blocks if b.kind == "terraform"]
    module_dirs = {b.module_dir for b in real_tree.blocks if b.kind in {"resource", "module"}}
    for directory in module_dirs:
        here = [b.body for b in settings if b.module_dir == directory]
        assert any(body.get("required_version") == ">= 1.11" for body in here), directory
        uses_google = any(
            b.kind == "resource" and b.labels[0].startswith("google_") and b.module_dir == directory
            for b in real_tree.blocks
        )
        if uses_google:
            providers = [p for body in here for p in body.get("required_providers", [])]
            assert providers, f"{directory} pins no providers"
            assert all(p["google"]["version"] == ">= 7.19, < 8" for p in providers if "google" in p), directory
    prefixes = set()
    for env_dir in real_tree.environments():
        backends = [b.body["backend"][0]["gcs"] for b in settings if b.module_dir == env_dir and "backend" in b.body]
        assert len(backends) == 1, env_dir.name
        assert env_dir.name in backends[0]["bucket"]
        prefixes.add((backends[0]["bucket"], backends[0]["prefix"]))
    assert len(prefixes) == len(real_tree.environments())
