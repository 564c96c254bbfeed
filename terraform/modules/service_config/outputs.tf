output "env" {
  description = "Plain environment variables of every service (never secrets)."
  value       = local.plain_env
}

output "secret_settings" {
  description = "Setting name => Secret Manager secret id it is read from."
  value       = local.secret_settings
}

output "external_secrets" {
  description = "Secret containers Terraform creates empty (id => description); versions are pinned per environment."
  value       = local.external_secrets
}

output "terraform_secrets" {
  description = "Secret ids whose values Terraform itself writes (write-only) from other resources."
  value       = local.terraform_secrets
}
