output "invoker_member" {
  description = "The invoker service account as an IAM member (the worker's only invoker)."
  value       = google_service_account.invoker.member
}

output "invoker_email" {
  description = "The invoker service account email (the worker checks the token's email claim)."
  value       = google_service_account.invoker.email
}

output "queue_id" {
  description = "Queue id (TASKS_QUEUE setting)."
  value       = google_cloud_tasks_queue.main.id
}
