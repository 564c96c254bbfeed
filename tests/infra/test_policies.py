"""The real Terraform tree satisfies every infrastructure policy."""

from __future__ import annotations

from pathlib import Path

from tests.infra import policies
from tests.infra.hcl import Tree
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
