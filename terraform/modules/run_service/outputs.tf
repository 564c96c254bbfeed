output "name" {
  description = "Cloud Run service name."
  value       = google_cloud_run_v2_service.main.name
}

output "id" {
  description = "Cloud Run service id."
  value       = google_cloud_run_v2_service.main.id
}

output "uri" {
  description = "run.app URL (disabled for public services; the Cloud Tasks target for workers)."
  value       = google_cloud_run_v2_service.main.uri
}

output "service_account_email" {
  description = "Runtime service account."
  value       = google_service_account.runtime.email
}

output "service_account_member" {
  description = "Runtime service account as an IAM member string."
  value       = google_service_account.runtime.member
}

output "latest_created_revision" {
  description = "Newest revision (after a Terraform template change, the name to put in the traffic file)."
  value       = google_cloud_run_v2_service.main.latest_created_revision
}

output "template_image" {
  description = "Image in the service template: the last one Cloud Build deployed, which a Terraform template change reuses."
  value       = google_cloud_run_v2_service.main.template[0].containers[0].image
}
