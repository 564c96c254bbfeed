output "url_secret" {
  description = "Secret id and pinned version of REDIS_URL."
  value       = { secret = google_secret_manager_secret.url.secret_id, version = google_secret_manager_secret_version.url.version }
}

output "ca_secret" {
  description = "Secret id, pinned version and mount path of the server CA bundle."
  value       = { secret = google_secret_manager_secret.ca.secret_id, version = google_secret_manager_secret_version.ca.version, path = "ca.pem", dir = "/secrets/redis-ca" }
}

output "host" {
  description = "Private IP of the instance."
  value       = google_redis_instance.main.host
}
