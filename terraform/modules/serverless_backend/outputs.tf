output "backend_service_id" {
  description = "Backend service id for the URL map."
  value       = google_compute_backend_service.main.id
}

output "neg_id" {
  description = "Serverless NEG id."
  value       = google_compute_region_network_endpoint_group.main.id
}
