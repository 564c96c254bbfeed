output "ip_address" {
  description = "The site's load-balancer IP."
  value       = module.stack.ip_address
}

output "dns_authorization_records" {
  description = "CNAMEs to create before cutover."
  value       = module.stack.dns_authorization_records
}

output "url_map_name" {
  description = "HTTPS URL map name (break-glass commands)."
  value       = module.stack.url_map_name
}

output "image_base" {
  description = "Artifact Registry path for images."
  value       = module.stack.image_base
}

output "latest_created_revisions" {
  description = "Newest revision per service."
  value       = module.stack.latest_created_revisions
}

output "split_totals" {
  description = "Percent totals per service and route (each 100)."
  value       = module.stack.split_totals
}

output "template_images" {
  description = "Image each service's next Terraform-made revision would run (compare with the stable revision's before `ops adopt`)."
  value       = module.stack.template_images
}
