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
