output "ip_address" {
  description = "The site's reserved IPv4 address (point the domains' A records here at cutover)."
  value       = google_compute_global_address.main.address
}

output "dns_authorization_records" {
  description = "CNAME records to create ahead of the cutover so certificates become ACTIVE."
  value = {
    for d, auth in google_certificate_manager_dns_authorization.main : d => {
      name = auth.dns_resource_record[0].name
      type = auth.dns_resource_record[0].type
      data = auth.dns_resource_record[0].data
    }
  }
}

output "url_map_name" {
  description = "Name of the HTTPS URL map (break-glass gcloud commands act on it)."
  value       = google_compute_url_map.main.name
}
