# One uptime check per service health path, through the load balancer (ingress is LB-only).
resource "google_monitoring_uptime_check_config" "health" {
  for_each = var.services

  project          = var.project_id
  display_name     = "${each.value.cloud_run_name} health"
  timeout          = "10s"
  period           = "60s"
  selected_regions = var.uptime_regions
  checker_type     = "STATIC_IP_CHECKERS"

  http_check {
    path           = each.value.health_path
    port           = 443
    use_ssl        = true
    validate_ssl   = true
    request_method = "GET"
    accepted_response_status_codes {
      status_class = "STATUS_CLASS_2XX"
    }
  }

  content_matchers {
    content = "\"status\":\"ok\""
    matcher = "CONTAINS_STRING"
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = var.host
    }
  }
}
