output "backend_service_id" {
  description = "Legacy backend service id for the URL map."
  value       = google_compute_backend_service.main.id
}
