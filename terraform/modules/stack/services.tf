# One Cloud Run service, serverless NEG and backend per catalog service; the catalog decides the set.
module "routing" {
  source = "../routing"

  services        = var.services
  traffic         = var.traffic
  legacy_fallback = var.legacy_fallback
}

module "service" {
  source   = "../run_service"
  for_each = var.services

  project_id         = var.project_id
  region             = var.region
  name               = each.value.cloud_run_name
  bootstrap_revision = var.bootstrap ? var.traffic[each.key].stable_revision : null
  ingress            = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
  public             = true
  env                = merge(local.service_env, { SERVICE_NAME = each.key })
  secret_env         = local.secret_env
  secret_files       = local.secret_files
  project_roles      = ["roles/datastore.user", "roles/aiplatform.user", "roles/cloudtrace.agent", "roles/monitoring.metricWriter"]
  min_instances      = lookup(var.scaling, each.key, local.default_scaling).min_instances
  max_instances      = lookup(var.scaling, each.key, local.default_scaling).max_instances
  concurrency        = lookup(var.scaling, each.key, local.default_scaling).concurrency
  # A stream lasts as long as the request may: streaming services get Cloud Run's maximum.
  timeout_seconds = length(each.value.streaming_prefixes) > 0 ? 3600 : 300
  # WebSockets live within that timeout (a client reconnects with its last event id); affinity only as a hint.
  session_affinity = each.key == "watch"
  # Work after the response (stream producer, summaries, memories) needs CPU between requests (ADR 0024).
  cpu_always_allocated = each.value.background_work
  health_path          = "${each.value.api_prefix}/health"
  ready_path           = "${each.value.api_prefix}/ready"
  network              = module.network.network_id
  subnetwork           = module.network.subnetwork_id
  traffic              = module.routing.run_traffic[each.key]
  deletion_protection  = var.deletion_protection
  labels               = { environment = var.environment, catalog_service = replace(each.key, "_", "-") }
  # APIs on and version 1 of every secret written (bootstrap) before the first revision starts.
  depends_on = [google_project_service.main, module.secrets]
}

# The private Cloud Tasks worker: the worker service's image, internal ingress, invoked only by the
# tasks-invoker account (no allUsers, IAM check on). Not canaried: it follows its latest revision.
module "worker" {
  source = "../run_service"

  project_id          = var.project_id
  region              = var.region
  name                = "${var.services[var.worker_service].cloud_run_name}-worker"
  ingress             = "INGRESS_TRAFFIC_INTERNAL_ONLY"
  public              = false
  invokers            = { tasks = module.tasks.invoker_member }
  env                 = merge(local.service_env, { SERVICE_NAME = var.worker_service })
  secret_env          = local.secret_env
  secret_files        = local.secret_files
  project_roles       = ["roles/datastore.user", "roles/aiplatform.user", "roles/cloudtrace.agent", "roles/monitoring.metricWriter"]
  max_instances       = 5
  concurrency         = 10
  timeout_seconds     = 1800
  health_path         = "${var.services[var.worker_service].api_prefix}/health"
  ready_path          = "${var.services[var.worker_service].api_prefix}/ready"
  network             = module.network.network_id
  subnetwork          = module.network.subnetwork_id
  deletion_protection = var.deletion_protection
  labels              = { environment = var.environment, catalog_service = "worker" }
  # APIs on and version 1 of every secret written (bootstrap) before the first revision starts.
  depends_on = [google_project_service.main, module.secrets]
}

module "backend" {
  source   = "../serverless_backend"
  for_each = var.services

  project_id        = var.project_id
  region            = var.region
  name              = each.value.cloud_run_name
  cloud_run_service = module.service[each.key].name
  security_policy   = module.armor.id
  depends_on        = [google_project_service.main]
}

# Header-routed twin of each backend that reaches the revision tagged `candidate` (smoke tests).
module "candidate_backend" {
  source   = "../serverless_backend"
  for_each = var.services

  project_id        = var.project_id
  region            = var.region
  name              = "${each.value.cloud_run_name}-candidate"
  cloud_run_service = module.service[each.key].name
  cloud_run_tag     = "candidate"
  security_policy   = module.armor.id
  depends_on        = [google_project_service.main]
}
