# The runtime identity: one service account per service, never the default compute account.
resource "google_service_account" "runtime" {
  project      = var.project_id
  account_id   = "run-${substr(var.name, 0, 24)}"
  display_name = "Cloud Run runtime: ${var.name}"
}

resource "google_project_iam_member" "runtime" {
  for_each = toset(var.project_roles)

  project = var.project_id
  role    = each.value
  member  = google_service_account.runtime.member
}

# Per-secret accessor: the service can read exactly the secrets it mounts, nothing else.
resource "google_secret_manager_secret_iam_member" "runtime" {
  for_each = toset(concat([for s in values(var.secret_env) : s.secret], [for s in values(var.secret_files) : s.secret]))

  project   = var.project_id
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.runtime.member
}

resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = var.invokers

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.main.name
  role     = "roles/run.invoker"
  member   = each.value
}
