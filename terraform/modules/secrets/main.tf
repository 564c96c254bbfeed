# Secret containers only: values never pass through Terraform state. Humans or CI add versions with
# `gcloud secrets versions add`, and the environment pins the version each service reads.
resource "google_secret_manager_secret" "main" {
  for_each = var.secrets

  project   = var.project_id
  secret_id = each.key
  labels    = merge(var.labels, { purpose = "runtime" })
  annotations = {
    description = each.value
  }

  replication {
    auto {}
  }
}

# The bootstrap (first apply of an environment) writes version 1 of each secret the services read, so
# no Cloud Run revision ever starts against an empty secret. Write-only (Terraform >= 1.11): the value
# goes to Secret Manager and never into state. ABANDON: when the bootstrap ends (initial_ids becomes
# empty) Terraform forgets these resources and the versions stay. Later versions are added out of band.
resource "google_secret_manager_secret_version" "initial" {
  for_each = var.initial_ids

  secret                 = google_secret_manager_secret.main[each.key].id
  secret_data_wo         = lookup(var.initial_values, each.key, "")
  secret_data_wo_version = 1
  deletion_policy        = "ABANDON"

  lifecycle {
    precondition {
      condition     = lookup(var.initial_values, each.key, "") != ""
      error_message = "Bootstrap: no initial material for secret ${each.key}. Put it in TF_VAR_initial_secrets (docs/runbook.md, \"First apply of a new environment\"); services are not created until every secret has version 1."
    }
    precondition {
      condition     = lookup(var.pinned_versions, each.key, "") == "1"
      error_message = "Bootstrap: secret_versions[\"${each.key}\"] must be \"1\", the version the bootstrap writes."
    }
  }
}
