output "ip_address" {
  description = "The site's load-balancer IP."
  value       = module.edge.ip_address
}

output "dns_authorization_records" {
  description = "CNAMEs to create before cutover (certificate DNS authorization)."
  value       = module.edge.dns_authorization_records
}

output "url_map_name" {
  description = "HTTPS URL map name (break-glass commands)."
  value       = module.edge.url_map_name
}

output "image_base" {
  description = "Artifact Registry path for images."
  value       = module.registry.image_base
}

output "deployer_email" {
  description = "Service account the Cloud Build triggers run as."
  value       = module.iam.deployer_email
}

output "latest_created_revisions" {
  description = "Newest revision per service (a Terraform template change shows up here with 0 % traffic)."
  value       = { for name, s in module.service : name => s.latest_created_revision }
}

output "split_totals" {
  description = "Percent totals per service and route (each must be 100)."
  value       = module.routing.split_totals
}

output "template_images" {
  description = "Image each service's next Terraform-made revision would run (the last deployed, canaried or not)."
  value       = { for name, s in module.service : name => s.template_image }
}
