output "trigger_ids" {
  description = "Trigger id per service."
  value       = { for name, t in google_cloudbuild_trigger.main : name => t.trigger_id }
}
