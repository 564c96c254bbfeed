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

module "redis" {
  source         = "../redis"
  project_id     = var.project_id
  region         = var.region
  network_id     = module.network.network_id
  tier           = var.redis_tier
  memory_size_gb = var.redis_memory_gb
}

module "secrets" {
  source     = "../secrets"
  project_id = var.project_id
  secrets    = local.secret_containers
  labels     = { environment = var.environment }
  depends_on = [google_project_service.main]
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
  producers  = [for s in module.service : s.service_account_member]
}

module "registry" {
  source     = "../artifact_registry"
  project_id = var.project_id
  region     = var.region
  writers    = [module.iam.deployer_member]
}

module "iam" {
  source     = "../iam"
  project_id = var.project_id
  runtime_service_accounts = merge(
    { for name, s in module.service : name => s.service_account_email },
    { worker = module.worker.service_account_email },
  )
  breakglass_members = var.breakglass_members
}
