# Pipeline and incident identities (least privilege; never the default compute account, never owner/editor).
resource "google_service_account" "deployer" {
  project      = var.project_id
  account_id   = "cloudbuild-deployer"
  display_name = "Cloud Build: builds images and deploys revisions with --no-traffic"
}

resource "google_project_iam_member" "deployer" {
  for_each = toset(["roles/run.developer", "roles/logging.logWriter"])

  project = var.project_id
  role    = each.value
  member  = google_service_account.deployer.member
}

# actAs only on the runtime accounts, so a deploy cannot run a revision as anything else.
resource "google_service_account_iam_member" "deployer_act_as" {
  for_each = var.runtime_service_accounts

  service_account_id = "projects/${var.project_id}/serviceAccounts/${each.value}"
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.deployer.member
}

# Used only by the runbook's break-glass gcloud path when Terraform itself is unavailable.
resource "google_service_account" "breakglass" {
  project      = var.project_id
  account_id   = "breakglass"
  display_name = "Break-glass: URL map and Cloud Run traffic during incidents"
}

resource "google_project_iam_member" "breakglass" {
  for_each = toset(["roles/compute.loadBalancerAdmin", "roles/run.developer"])

  project = var.project_id
  role    = each.value
  member  = google_service_account.breakglass.member
}

resource "google_service_account_iam_member" "breakglass_impersonation" {
  for_each = toset(var.breakglass_members)

  service_account_id = google_service_account.breakglass.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = each.value
}
