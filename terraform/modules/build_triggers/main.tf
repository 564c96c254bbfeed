# One trigger per function: it fires when the function's folder, the shared package, the lockfile or
# the build recipe changes, and builds and canaries only that service.
resource "google_cloudbuild_trigger" "main" {
  for_each = var.services

  project = var.project_id
  # 1st-gen GitHub triggers are global; the builds still deploy to var.region (_REGION).
  location        = "global"
  name            = "build-${replace(each.key, "_", "-")}-${var.environment}"
  description     = "Build and canary ${each.key} in ${var.environment}."
  filename        = "cloudbuild.yaml"
  service_account = "projects/${var.project_id}/serviceAccounts/${var.service_account_email}"
  included_files = [
    "${each.value}/**",
    "shared/**",
    "uv.lock",
    "pyproject.toml",
    "Dockerfile",
    "services.yaml",
    "cloudbuild.yaml",
  ]

  github {
    owner = var.github_owner
    name  = var.github_repo
    push {
      branch = var.branch_regex
    }
  }

  substitutions = {
    _ENV            = var.environment
    _REGION         = var.region
    _SERVICES       = each.key
    _DOMAIN         = var.domain
    _CANARY_PERCENT = tostring(var.canary_percent)
  }
}

# The deploy key the build uses to record the traffic file; its value is added out of band.
resource "google_secret_manager_secret" "deploy_key" {
  project   = var.project_id
  secret_id = "ci-traffic-deploy-key"
  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_iam_member" "deploy_key" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.deploy_key.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${var.service_account_email}"
}
