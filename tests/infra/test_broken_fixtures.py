"""Deliberately broken copies of the tree: each policy catches the breakage it exists for."""

from __future__ import annotations

import json

import pytest

from tests.infra import policies
from tests.infra.conftest import Workspace
from tools.settings_export import export

ROUTING = "terraform/modules/routing/main.tf"
CONFIG = "terraform/modules/service_config/main.tf"
BACKEND = "terraform/modules/serverless_backend/main.tf"
STACK_SERVICES = "terraform/modules/stack/services.tf"
RUN_SERVICE = "terraform/modules/run_service/main.tf"


def test_a_service_missing_from_the_url_map_is_caught(workspace: Workspace) -> None:
    workspace.edit(
        ROUTING,
        "for name, svc in var.services : concat(",
        'for name, svc in { for k, v in var.services : k => v if k != "watch" } : concat(',
    )
    problems = policies.catalog_coverage(workspace.tree(), workspace.catalog_path)
    assert "dev: service watch has no URL-map route" in problems
    assert "prod: /api/v2/watch of watch is missing from the URL map" in problems


def test_a_catalog_service_without_a_traffic_entry_is_rejected(workspace: Workspace) -> None:
    workspace.edit(
        "services.yaml",
        "services:\n",
        "services:\n  quiz:\n    folder: functions/quiz\n    module: functions.quiz.main\n"
        "    cloud_run_name: quiz\n    api_prefix: /api/v2/quiz\n    prefixes: [/api/v2/quiz]\n"
        "    exact: []\n    streaming_prefixes: []\n",
    )
    problems = policies.catalog_coverage(workspace.tree(), workspace.catalog_path)
    assert any("exactly one entry per catalog service" in p for p in problems), problems


def test_a_stack_that_filters_services_is_caught(workspace: Workspace) -> None:
    workspace.edit(
        STACK_SERVICES,
        'source   = "../serverless_backend"\n  for_each = var.services',
        'source   = "../serverless_backend"\n  for_each = { for k, v in var.services : k => v if k != "chat" }',
    )
    problems = policies.catalog_coverage(workspace.tree(), workspace.catalog_path)
    assert "stack: module.backend must iterate every catalog service (for_each = var.services)" in problems


def test_cpu_throttled_after_the_response_is_caught(workspace: Workspace) -> None:
    workspace.edit(RUN_SERVICE, "cpu_idle          = !var.cpu_always_allocated", "cpu_idle          = true")
    workspace.edit(STACK_SERVICES, "cpu_always_allocated = each.value.background_work\n", "")
    problems = policies.background_work_cpu(workspace.tree(), workspace.catalog_path)
    assert (
        "run_service/main.tf: resource google_cloud_run_v2_service.main: "
        "the app container must set cpu_idle = !var.cpu_always_allocated"
    ) in problems, problems
    assert "stack: module.service must set cpu_always_allocated = each.value.background_work" in problems


def test_a_streaming_service_without_background_work_is_caught(workspace: Workspace) -> None:
    workspace.edit(
        "services.yaml",
        "streaming_prefixes: [/api/v2/watch]\n    background_work: true",
        "streaming_prefixes: [/api/v2/watch]\n    background_work: false",
    )
    problems = policies.background_work_cpu(workspace.tree(), workspace.catalog_path)
    assert problems == ["catalog: watch streams, so it works after its response: set background_work: true"]


def test_percentages_summing_to_90_are_caught(workspace: Workspace) -> None:
    workspace.edit(ROUTING, "percent = 100 - t.candidate_percent", "percent = 90 - t.candidate_percent")
    problems = policies.traffic_splits(workspace.tree(), workspace.catalog_path)
    assert "dev: Cloud Run split of chat sums to 90, not 100" in problems


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"candidate_percent": 110, "candidate_revision": "chat-next"}, "whole numbers between 0 and 100"),
        ({"candidate_percent": 10, "candidate_revision": None}, "must be 0 when candidate_revision is null"),
        ({"candidate_revision": "scenario-next", "candidate_percent": 5}, "must start with the Cloud Run service"),
        ({"legacy_percent": 12.5}, "whole numbers between 0 and 100"),
    ],
)
def test_invalid_traffic_files_are_rejected_by_terraform(
    workspace: Workspace, change: dict[str, object], message: str
) -> None:
    path = workspace.root / "terraform/environments/staging/traffic.auto.tfvars.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["traffic"]["chat"].update(change)
    path.write_text(json.dumps(data), encoding="utf-8")
    problems = policies.traffic_splits(workspace.tree(), workspace.catalog_path)
    assert len(problems) == 1, problems
    assert problems[0].startswith("staging: terraform rejected"), problems
    assert message in problems[0]


def test_a_missing_secret_setting_is_caught(workspace: Workspace) -> None:
    workspace.edit(CONFIG, '      CSRF_SECRET       = "csrf-secret"\n', "")
    problems = policies.required_settings(workspace.tree(), export())
    assert "prod: chat requires CSRF_SECRET, which is neither env nor secret" in problems


def test_a_secret_without_a_secret_resource_is_caught(workspace: Workspace) -> None:
    workspace.edit(CONFIG, '    "csrf-secret"             = "HMAC key of CSRF tokens (CSRF_SECRET)."\n', "")
    problems = policies.secrets_declared(workspace.tree())
    assert "dev: CSRF_SECRET reads secret csrf-secret, which has no secret resource" in problems


def test_an_unpinned_secret_version_is_caught(workspace: Workspace) -> None:
    workspace.edit(
        "terraform/environments/prod/terraform.tfvars",
        '"ale-keys"                = "1"',
        '"ale-keys"                = "latest"',
    )
    problems = policies.secrets_declared(workspace.tree())
    assert "prod: secret ale-keys (ALE_KEYS) has no pinned version in terraform.tfvars" in problems


def test_a_secret_passed_as_plain_env_is_caught(workspace: Workspace) -> None:
    workspace.edit(
        CONFIG,
        '      LOG_JSON              = "true"\n',
        '      LOG_JSON              = "true"\n      LEGACY_SECRET_KEY     = "oops"\n',
    )
    problems = policies.required_settings(workspace.tree(), export())
    assert "staging: watch gets secret LEGACY_SECRET_KEY as a plain env var" in problems


def test_a_misspelt_setting_is_caught(workspace: Workspace) -> None:
    workspace.edit(CONFIG, "      LOG_JSON              =", "      LOG_JSNO              =")
    problems = policies.required_settings(workspace.tree(), export())
    assert "dev: LOG_JSNO is not a setting of chat" in problems


def test_missing_secret_accessor_iam_is_caught(workspace: Workspace) -> None:
    workspace.edit("terraform/modules/run_service/iam.tf", ", [for s in values(var.secret_files) : s.secret]", "")
    problems = policies.secrets_declared(workspace.tree())
    assert "run_service: accessor IAM must cover every secret_env and secret_files secret" in problems


def test_timeout_on_a_serverless_backend_is_caught(workspace: Workspace) -> None:
    workspace.edit(
        BACKEND,
        '  protocol              = "HTTPS"\n',
        '  protocol              = "HTTPS"\n  timeout_sec           = 30\n',
    )
    problems = policies.serverless_backend_hygiene(workspace.tree())
    assert problems == [
        "serverless_backend/main.tf: resource google_compute_backend_service.main: "
        "timeout_sec is not allowed with a serverless NEG"
    ]


def test_health_check_on_a_serverless_backend_is_caught(workspace: Workspace) -> None:
    workspace.edit(
        BACKEND,
        "  enable_cdn            = false\n",
        "  enable_cdn            = false\n  health_checks         = [var.security_policy]\n",
    )
    assert any("health_checks" in p for p in policies.serverless_backend_hygiene(workspace.tree()))


def test_classic_load_balancing_scheme_is_caught(workspace: Workspace) -> None:
    workspace.edit(BACKEND, 'load_balancing_scheme = "EXTERNAL_MANAGED"', 'load_balancing_scheme = "EXTERNAL"')
    problems = policies.external_managed(workspace.tree())
    assert problems == [
        "serverless_backend/main.tf: resource google_compute_backend_service.main: "
        "load_balancing_scheme must be EXTERNAL_MANAGED"
    ]


def test_neg_without_create_before_destroy_is_caught(workspace: Workspace) -> None:
    workspace.edit(BACKEND, "create_before_destroy = true", "create_before_destroy = false")
    assert len(policies.neg_create_before_destroy(workspace.tree())) == 1


def test_all_users_invoker_on_the_worker_is_caught(workspace: Workspace) -> None:
    workspace.edit(
        STACK_SERVICES,
        "invokers            = { tasks = module.tasks.invoker_member }",
        'invokers            = { tasks = "allUsers" }',
    )
    problems = policies.worker_not_public(workspace.tree())
    assert "stack/services.tf: module worker: grants allUsers" in problems
    assert "stack: module.worker invokers must be exactly the tasks invoker account" in problems


def test_a_public_worker_is_caught(workspace: Workspace) -> None:
    workspace.edit(STACK_SERVICES, "public              = false", "public              = true")
    assert policies.worker_not_public(workspace.tree()) == [
        "stack: module.worker must set public = false (keep the invoker IAM check)"
    ]


def test_ignoring_the_revision_name_or_traffic_is_caught(workspace: Workspace) -> None:
    workspace.edit(
        "terraform/modules/run_service/main.tf",
        "      client_version,\n",
        "      client_version,\n      template[0].revision,\n      traffic,\n",
    )
    problems = policies.run_service_lifecycle(workspace.tree())
    assert len(problems) == 2
    assert all("must not include" in p for p in problems)


def test_for_each_over_computed_members_is_caught(workspace: Workspace) -> None:
    workspace.edit(
        "terraform/modules/tasks/main.tf", "  for_each = var.producers\n", "  for_each = toset(var.producers)\n"
    )
    workspace.edit(
        "terraform/modules/stack/platform.tf",
        "producers  = { for name, s in module.service : name => s.service_account_member }",
        "producers  = [for s in module.service : s.service_account_member]",
    )
    problems = policies.for_each_known_at_plan(workspace.tree())
    assert len(problems) == 2, problems  # the enqueuer and the actAs bindings
    assert all("key it with static names" in p for p in problems)
