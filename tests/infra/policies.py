"""Infrastructure policies over a Terraform tree, the service catalog and the settings classes.

Each policy returns a list of violations (empty: compliant). The tests run them on the real tree and
on deliberately broken copies. Data-driven parts (routes, splits, env and secrets) are checked on the
values Terraform itself computes: the provider-free ``routing`` and ``service_config`` modules are
evaluated with the real binary, so the checks see what ``apply`` would see.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.infra.hcl import Tree, first, load_tfvars
from tests.infra.render import load_catalog, render_config, render_routing, traffic_file
from tests.infra.terraform_cli import TerraformRejected
from tools.settings_export import SettingSpec

CATALOG_EXPR = '${yamldecode(file("${path.module}/../../../services.yaml"))}'
SERVERLESS_FORBIDDEN = ("timeout_sec", "health_checks", "session_affinity", "balancing_mode", "capacity_scaler")
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
REQUIRED_IGNORES = ("client", "client_version", "${template[0].containers[0].image}", "${template[0].labels}")
# Ignoring these breaks the design (ADR 0020): Terraform owns traffic; an ignored revision name 409s.
FORBIDDEN_IGNORES = ("traffic", "${template[0].revision}", "template")


# --- catalog coverage --------------------------------------------------------------------------------


def catalog_coverage(tree: Tree, catalog_path: Path) -> list[str]:
    """Every catalog service has a Cloud Run service, a NEG + backend, and URL-map routes for all its paths."""
    problems: list[str] = []
    catalog = load_catalog(catalog_path)
    for env_dir in tree.environments():
        catalog_expr = tree.locals.get(env_dir, {}).get("catalog")
        if catalog_expr != CATALOG_EXPR or (env_dir / "../../../services.yaml").resolve() != catalog_path:
            problems.append(f"{env_dir.name}: the root must read the catalog with {CATALOG_EXPR}")
        for call in tree.module_calls(f"environments/{env_dir.name}", "stack"):
            if call.body.get("services") != "${local.catalog.services}":
                problems.append(f"{env_dir.name}: module.stack must get services = local.catalog.services")
    for name in ("service", "backend", "candidate_backend"):
        calls = tree.module_calls("modules/stack", name)
        if not calls or calls[0].body.get("for_each") != "${var.services}":
            problems.append(f"stack: module.{name} must iterate every catalog service (for_each = var.services)")
    edge = tree.module_calls("modules/stack", "edge")
    if not edge or edge[0].body.get("routes") != "${module.routing.routes}":
        problems.append("stack: module.edge must get routes = module.routing.routes")
    for url_map in tree.resources("google_compute_url_map"):
        matcher = first(url_map.body, "path_matcher")
        if not matcher:
            continue
        dynamics = [d for d in matcher.get("dynamic", []) if "route_rules" in d]
        if not dynamics or any(d["route_rules"].get("for_each") != "${var.routes}" for d in dynamics):
            problems.append(f"{url_map.address}: route_rules must be generated from var.routes")
        if not any("test" in d for d in url_map.body.get("dynamic", [])):
            problems.append(f"{url_map.address}: test blocks must be generated for the routes")
    for env_dir in tree.environments():
        try:
            rendered = render_routing(tree, catalog, traffic_file(env_dir))
        except TerraformRejected as exc:
            problems.append(f"{env_dir.name}: terraform rejected the catalog/traffic: {exc}")
            continue
        if traffic_file(env_dir)["legacy_fallback"]:
            continue
        routed = {(r["service"], r["path"]) for r in rendered["routes"]}
        tested = {t["path"] for t in rendered["url_tests"]}
        for name, svc in catalog.items():
            if not any(r[0] == name for r in routed):
                problems.append(f"{env_dir.name}: service {name} has no URL-map route")
            for path in [*svc["prefixes"], *(svc.get("exact") or [])]:
                if (name, path) not in routed:
                    problems.append(f"{env_dir.name}: {path} of {name} is missing from the URL map")
                elif path not in tested:
                    problems.append(f"{env_dir.name}: {path} of {name} has no URL-map test block")
    return problems


# --- load balancer hygiene -----------------------------------------------------------------------------


def serverless_backend_hygiene(tree: Tree) -> list[str]:
    """Backends of serverless NEGs set no timeout, health check, affinity or balancing mode."""
    problems: list[str] = []
    for backend in tree.resources("google_compute_backend_service"):
        groups = [b.get("group", "") for b in backend.body.get("backend", [])]
        if not any("google_compute_region_network_endpoint_group" in g for g in groups):
            continue
        for key in SERVERLESS_FORBIDDEN:
            if key in backend.body or any(key in b for b in backend.body.get("backend", [])):
                problems.append(f"{backend.address}: {key} is not allowed with a serverless NEG")
        if backend.body.get("enable_cdn") is not False:
            problems.append(f"{backend.address}: enable_cdn must be false (SSE)")
        if backend.body.get("compression_mode") != "DISABLED":
            problems.append(f"{backend.address}: compression_mode must be DISABLED (SSE)")
    return problems


def external_managed(tree: Tree) -> list[str]:
    """Weighted routes need EXTERNAL_MANAGED: every backend service and forwarding rule uses it."""
    problems: list[str] = []
    for rtype in ("google_compute_backend_service", "google_compute_global_forwarding_rule"):
        for block in tree.resources(rtype):
            if block.body.get("load_balancing_scheme") != "EXTERNAL_MANAGED":
                problems.append(f"{block.address}: load_balancing_scheme must be EXTERNAL_MANAGED")
    return problems


def neg_create_before_destroy(tree: Tree) -> list[str]:
    """Serverless NEGs are immutable: create_before_destroy with a config-derived name."""
    problems: list[str] = []
    for neg in tree.resources("google_compute_region_network_endpoint_group"):
        if first(neg.body, "lifecycle").get("create_before_destroy") is not True:
            problems.append(f"{neg.address}: needs lifecycle create_before_destroy = true")
        if "${" not in str(neg.body.get("name", "")):
            problems.append(f"{neg.address}: name must carry a config-derived suffix")
    return problems


# --- Cloud Run ---------------------------------------------------------------------------------------------


def worker_not_public(tree: Tree) -> list[str]:
    """No allUsers invoker anywhere; the worker is internal, IAM-checked and invoked by the tasks account only."""
    problems: list[str] = []
    for block in tree.blocks:
        text = json.dumps(block.body)
        for member in PUBLIC_MEMBERS:
            if member in text and block.kind != "variable":
                problems.append(f"{block.address}: grants {member}")
    if "INGRESS_TRAFFIC_ALL" in json.dumps([b.body for b in tree.blocks if b.kind != "variable"]):
        problems.append("some Cloud Run service uses INGRESS_TRAFFIC_ALL (run.app would bypass Cloud Armor)")
    workers = tree.module_calls("modules/stack", "worker")
    if not workers:
        return [*problems, "stack: module.worker (the Cloud Tasks target) is missing"]
    worker = workers[0].body
    if worker.get("public") is not False:
        problems.append("stack: module.worker must set public = false (keep the invoker IAM check)")
    if worker.get("ingress") != "INGRESS_TRAFFIC_INTERNAL_ONLY":
        problems.append("stack: module.worker must use INGRESS_TRAFFIC_INTERNAL_ONLY")
    if worker.get("invokers") != {"tasks": "${module.tasks.invoker_member}"}:
        problems.append("stack: module.worker invokers must be exactly the tasks invoker account")
    return problems


def run_service_lifecycle(tree: Tree) -> list[str]:
    """Terraform owns shape and traffic, the pipeline owns the image (ADR 0020)."""
    problems: list[str] = []
    services = tree.resources("google_cloud_run_v2_service")
    if not services:
        return ["no google_cloud_run_v2_service in the tree"]
    for service in services:
        ignored = first(service.body, "lifecycle").get("ignore_changes", [])
        for key in REQUIRED_IGNORES:
            if key not in ignored:
                problems.append(f"{service.address}: ignore_changes must include {key}")
        for key in FORBIDDEN_IGNORES:
            if key in ignored:
                problems.append(f"{service.address}: ignore_changes must not include {key} (ADR 0020)")
        if not any("traffic" in d for d in service.body.get("dynamic", [])):
            problems.append(f"{service.address}: traffic must be managed (dynamic traffic from var.traffic)")
    return problems


def background_work_cpu(tree: Tree, catalog_path: Path) -> list[str]:
    """Services that work after their response keep the CPU allocated; the catalog flags every streamer.

    With ``cpu_idle = true`` Cloud Run throttles an instance's CPU once no request is in flight, so the
    detached stream producer, rolling summary and memory extraction would crawl or stall (ADR 0024).
    """
    problems: list[str] = []
    catalog = load_catalog(catalog_path)
    for name, svc in catalog.items():
        flag = svc.get("background_work", False)
        if not isinstance(flag, bool):
            problems.append(f"catalog: {name}.background_work must be true or false")
        # Every streaming route runs the turn pipeline, whose producer outlives a disconnected client.
        if svc.get("streaming_prefixes") and flag is not True:
            problems.append(f"catalog: {name} streams, so it works after its response: set background_work: true")
    run_vars = [
        b
        for b in tree.blocks
        if b.kind == "variable" and b.labels == ("cpu_always_allocated",) and b.module_dir == tree.module("run_service")
    ]
    if not run_vars:
        problems.append("run_service: variable cpu_always_allocated is missing")
    elif run_vars[0].body.get("type") != "bool" or not run_vars[0].body.get("description"):
        problems.append("run_service: variable cpu_always_allocated must be a described bool")
    for service in tree.resources("google_cloud_run_v2_service"):
        if service.module_dir != tree.module("run_service"):
            continue
        containers: list[dict[str, object]] = first(service.body, "template").get("containers", [])
        app: dict[str, object] = next((c for c in containers if c.get("name") == "app"), {})
        cpu_idle = first(app, "resources").get("cpu_idle")
        if cpu_idle != "${!var.cpu_always_allocated}":
            problems.append(f"{service.address}: the app container must set cpu_idle = !var.cpu_always_allocated")
    calls = tree.module_calls("modules/stack", "service")
    if not calls or calls[0].body.get("cpu_always_allocated") != "${each.value.background_work}":
        problems.append("stack: module.service must set cpu_always_allocated = each.value.background_work")
    return problems


def traffic_splits(tree: Tree, catalog_path: Path) -> list[str]:
    """For every environment, Cloud Run splits and LB weights each sum to 100 with shares in 0-100."""
    problems: list[str] = []
    catalog = load_catalog(catalog_path)
    run_vars = [
        b
        for b in tree.blocks
        if b.kind == "variable" and b.labels == ("traffic",) and b.module_dir == tree.module("run_service")
    ]
    if not run_vars or not any("sum(" in str(v.get("condition")) for v in run_vars[0].body.get("validation", [])):
        problems.append("run_service: variable traffic must validate that percentages sum to 100")
    for env_dir in tree.environments():
        try:
            rendered = render_routing(tree, catalog, traffic_file(env_dir))
        except TerraformRejected as exc:
            problems.append(f"{env_dir.name}: terraform rejected the traffic file: {exc}")
            continue
        for name, targets in rendered["run_traffic"].items():
            total = sum(t["percent"] for t in targets)
            if total != 100:
                problems.append(f"{env_dir.name}: Cloud Run split of {name} sums to {total}, not 100")
            problems += [
                f"{env_dir.name}: {name} -> {t['revision']} gets {t['percent']} %"
                for t in targets
                if not 0 <= t["percent"] <= 100
            ]
        for route in rendered["routes"]:
            if route["service_weight"] + route["legacy_weight"] != 100:
                problems.append(f"{env_dir.name}: LB weights of {route['path']} do not sum to 100")
    return problems


# --- settings and secrets ------------------------------------------------------------------------------------


def secrets_declared(tree: Tree) -> list[str]:
    """Every secret a service reads has a secret resource, accessor IAM and (if external) a pinned version."""
    problems: list[str] = []
    literal_ids = {b.body.get("secret_id") for b in tree.resources("google_secret_manager_secret")}
    containers = tree.resources("google_secret_manager_secret")
    if not any(
        c.body.get("for_each") == "${var.secrets}" and c.module_dir == tree.module("secrets") for c in containers
    ):
        problems.append("secrets: google_secret_manager_secret must be created for_each = var.secrets")
    secrets_call = tree.module_calls("modules/stack", "secrets")
    if not secrets_call or secrets_call[0].body.get("secrets") != "${module.config.external_secrets}":
        problems.append("stack: module.secrets must create module.config.external_secrets")
    accessors = [
        b
        for b in tree.resources("google_secret_manager_secret_iam_member")
        if b.module_dir == tree.module("run_service")
    ]
    if not accessors or not all(
        k in str(accessors[0].body.get("for_each")) for k in ("var.secret_env", "var.secret_files")
    ):
        problems.append("run_service: accessor IAM must cover every secret_env and secret_files secret")
    elif accessors[0].body.get("role") != "roles/secretmanager.secretAccessor":
        problems.append("run_service: accessor IAM must grant roles/secretmanager.secretAccessor")
    for env_dir in tree.environments():
        try:
            config = render_config(tree, env_dir)
        except TerraformRejected as exc:
            problems.append(f"{env_dir.name}: terraform rejected service_config: {exc}")
            continue
        versions = load_tfvars(env_dir / "terraform.tfvars").get("secret_versions", {})
        for setting, secret in config["secret_settings"].items():
            if secret in config["terraform_secrets"]:
                if secret not in literal_ids:
                    problems.append(f"{env_dir.name}: {setting} reads {secret}, which no module declares")
            elif secret not in config["external_secrets"]:
                problems.append(f"{env_dir.name}: {setting} reads secret {secret}, which has no secret resource")
            elif not re.fullmatch(r"[0-9]+", str(versions.get(secret, ""))):
                problems.append(
                    f"{env_dir.name}: secret {secret} ({setting}) has no pinned version in terraform.tfvars"
                )
    return problems


def required_settings(tree: Tree, settings: dict[str, dict[str, SettingSpec]]) -> list[str]:
    """Each service gets every required production setting, secrets only from Secret Manager, no unknown names."""
    problems: list[str] = []
    # SERVICE_NAME is added per service by the stack; Cloud Run itself sets PORT and K_*.
    stack_added = {"SERVICE_NAME"}
    for env_dir in tree.environments():
        try:
            config = render_config(tree, env_dir)
        except TerraformRejected as exc:
            problems.append(f"{env_dir.name}: terraform rejected service_config: {exc}")
            continue
        env, secrets = config["env"], config["secret_settings"]
        if env.get("ENV") != env_dir.name:
            problems.append(f"{env_dir.name}: ENV is {env.get('ENV')!r}, not {env_dir.name!r}")
        if env.get("STORE_BACKEND") != "firestore":
            problems.append(f"{env_dir.name}: STORE_BACKEND must be firestore in the cloud")
        for service, specs in settings.items():
            provided = set(env) | set(secrets) | stack_added
            for name, spec in specs.items():
                if spec.required_in_cloud and name not in provided:
                    problems.append(f"{env_dir.name}: {service} requires {name}, which is neither env nor secret")
                if spec.secret and name in env:
                    problems.append(f"{env_dir.name}: {service} gets secret {name} as a plain env var")
            for name in sorted(set(env) | set(secrets)):
                if name not in specs:
                    problems.append(f"{env_dir.name}: {name} is not a setting of {service}")
                elif name in secrets and not specs[name].secret:
                    problems.append(f"{env_dir.name}: {name} comes from Secret Manager but is not a SecretStr")
    return problems


POLICIES = (
    "catalog_coverage",
    "serverless_backend_hygiene",
    "external_managed",
    "neg_create_before_destroy",
    "worker_not_public",
    "run_service_lifecycle",
    "background_work_cpu",
    "traffic_splits",
    "secrets_declared",
    "required_settings",
    "for_each_known_at_plan",
)


def for_each_known_at_plan(tree: Tree) -> list[str]:
    """A ``for_each = toset(var.X)`` is only fed literal values: computed members (a new service account's
    email) are unknown at plan time and make the first ``plan`` fail ("Invalid for_each argument")."""
    problems: list[str] = []
    calls = [b for b in tree.blocks if b.kind == "module"]
    for block in tree.blocks:
        if block.kind not in {"resource", "module"}:
            continue
        for variable in re.findall(r"toset\(var\.(\w+)\)", str(block.body.get("for_each", ""))):
            for call in calls:
                source = (call.module_dir / str(call.body.get("source", ""))).resolve()
                if source != block.module_dir.resolve():
                    continue
                argument = str(call.body.get(variable, ""))
                if "module." in argument or "google_" in argument:
                    problems.append(
                        f"{block.address}: for_each = toset(var.{variable}) but {call.address} passes a value "
                        f"computed at apply ({argument}); key it with static names (a map)"
                    )
    return problems
