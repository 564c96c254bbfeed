output "ids" {
  description = "Secret id per secret (for secret_key_ref and IAM)."
  value       = { for id, s in google_secret_manager_secret.main : id => s.secret_id }
}
