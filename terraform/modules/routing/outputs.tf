output "routes" {
  description = "URL-map route rules, longest path first (empty when the whole site falls back to legacy)."
  value       = var.legacy_fallback ? [] : local.routes
}

output "run_traffic" {
  description = "Cloud Run traffic targets per service: the stable revision and, during a canary, the candidate."
  value       = local.run_traffic
}

output "url_tests" {
  description = "Expected backend (a service name or \"legacy\") for sample paths; rendered as URL-map test blocks."
  value       = local.url_tests
}

output "split_totals" {
  description = "Sum of the Cloud Run percentages per service (must be 100) and of the LB weights per route."
  value = {
    run = { for name, targets in local.run_traffic : name => sum([for t in targets : t.percent]) }
    lb  = { for r in local.routes : "${r.service}${r.path}" => r.service_weight + r.legacy_weight }
  }
}

output "canary_header" {
  description = "Header that selects the candidate revision in the URL map."
  value       = var.canary_header
}
