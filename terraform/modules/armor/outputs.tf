output "id" {
  description = "Security policy id for backend services."
  value       = google_compute_security_policy.main.id
}
