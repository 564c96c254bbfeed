output "url_secret" {
  description = "Secret id and pinned version of REDIS_URL (the discovery endpoint)."
  value       = { secret = google_secret_manager_secret.url.secret_id, version = google_secret_manager_secret_version.url.version }
}

output "ca_secret" {
  description = "Secret id, pinned version and mount path of the cluster's server CA bundle."
  value       = { secret = google_secret_manager_secret.ca.secret_id, version = google_secret_manager_secret_version.ca.version, path = "ca.pem", dir = "/secrets/redis-ca" }
}

output "host" {
  description = "Address of the discovery endpoint."
  value       = local.endpoint.address
}
