output "deployer_member" {
  description = "Cloud Build deployer as an IAM member."
  value       = google_service_account.deployer.member
}

output "deployer_email" {
  description = "Cloud Build deployer email (the trigger's service account)."
  value       = google_service_account.deployer.email
}

output "breakglass_email" {
  description = "Break-glass account to impersonate (gcloud --impersonate-service-account)."
  value       = google_service_account.breakglass.email
}
