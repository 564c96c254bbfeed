# Shared platform pieces of one environment.
resource "google_project_service" "main" {
  for_each = toset([
    "run.googleapis.com", "compute.googleapis.com", "redis.googleapis.com", "secretmanager.googleapis.com",
    "firestore.googleapis.com", "cloudtasks.googleapis.com", "artifactregistry.googleapis.com",
    "certificatemanager.googleapis.com", "monitoring.googleapis.com", "cloudbuild.googleapis.com",
    "aiplatform.googleapis.com", "iam.googleapis.com",
  ])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

module "network" {
  source     = "../network"
  project_id = var.project_id
  region     = var.region
  depends_on = [google_project_service.main]
}

# One of the two Memorystore products, per environment (redis_topology, ADR 0019); both deliver the
# same url/CA secrets, so the services are wired alike and only REDIS_MODE differs.
module "redis" {
  source         = "../redis"
  count          = var.redis_topology == "instance" ? 1 : 0
  project_id     = var.project_id
  region         = var.region
  network_id     = module.network.network_id
  tier           = var.redis_tier
  memory_size_gb = var.redis_memory_gb
  depends_on     = [google_project_service.main]
}

moved {
  from = module.redis
  to   = module.redis[0]
}

module "redis_cluster" {
  source              = "../redis_cluster"
  count               = var.redis_topology == "cluster" ? 1 : 0
  project_id          = var.project_id
  region              = var.region
  network_id          = module.network.network_id
  shard_count         = var.redis_cluster.shard_count
  replicas_per_shard  = var.redis_cluster.replicas_per_shard
  node_type           = var.redis_cluster.node_type
  iam_auth            = var.redis_cluster.iam_auth
  client_members      = { for name, s in module.service : name => s.service_account_member }
  deletion_protection = var.deletion_protection
  depends_on          = [google_project_service.main]
}

locals {
  redis = var.redis_topology == "cluster" ? {
    url_secret = module.redis_cluster[0].url_secret
    ca_secret  = module.redis_cluster[0].ca_secret
    } : {
    url_secret = module.redis[0].url_secret
    ca_secret  = module.redis[0].ca_secret
  }
}

module "secrets" {
  source     = "../secrets"
  project_id = var.project_id
  secrets    = module.config.external_secrets
  labels     = { environment = var.environment }
  # Bootstrap: version 1 of every secret the services read, before any service exists.
  initial_ids     = var.bootstrap ? local.bootstrap_secret_ids : []
  initial_values  = var.initial_secrets
  pinned_versions = var.secret_versions
  depends_on      = [google_project_service.main]
}

module "firestore" {
  source            = "../firestore"
  project_id        = var.project_id
  location_id       = var.firestore_location
  delete_protection = var.deletion_protection
  depends_on        = [google_project_service.main]
}

module "tasks" {
  source     = "../tasks"
  project_id = var.project_id
  region     = var.region
  worker_uri = module.worker.uri
  producers  = { for name, s in module.service : name => s.service_account_member }
  depends_on = [google_project_service.main]
}

module "registry" {
  source     = "../artifact_registry"
  project_id = var.project_id
  region     = var.region
  writers    = { deployer = module.iam.deployer_member }
  depends_on = [google_project_service.main]
}

module "iam" {
  source     = "../iam"
  project_id = var.project_id
  runtime_service_accounts = merge(
    { for name, s in module.service : name => s.service_account_email },
    { worker = module.worker.service_account_email },
  )
  breakglass_members = var.breakglass_members
  depends_on         = [google_project_service.main]
}

module "build_triggers" {
  source   = "../build_triggers"
  for_each = var.build_triggers == null ? {} : { main = var.build_triggers }

  project_id            = var.project_id
  region                = var.region
  environment           = var.environment
  services              = { for name, s in var.services : name => "functions/${name}" }
  github_owner          = each.value.github_owner
  github_repo           = each.value.github_repo
  branch_regex          = each.value.branch_regex
  canary_percent        = each.value.canary_percent
  service_account_email = module.iam.deployer_email
  domain                = var.domains[0]
  depends_on            = [google_project_service.main]
}
