output "network_id" {
  description = "VPC id (Memorystore authorized network, Cloud Run egress)."
  value       = google_compute_network.main.id
}

output "subnetwork_id" {
  description = "Direct VPC egress subnetwork id."
  value       = google_compute_subnetwork.run.id
}
