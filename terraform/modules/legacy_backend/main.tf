# The legacy Flask app as an internet NEG: everything the catalog does not claim, and the whole site
# when legacy_fallback is on.
resource "google_compute_global_network_endpoint_group" "main" {
  project               = var.project_id
  name                  = "neg-${var.name}"
  network_endpoint_type = "INTERNET_FQDN_PORT"
  default_port          = var.port
}

resource "google_compute_global_network_endpoint" "main" {
  project                       = var.project_id
  global_network_endpoint_group = google_compute_global_network_endpoint_group.main.name
  fqdn                          = var.fqdn
  port                          = var.port
}

resource "google_compute_backend_service" "main" {
  project               = var.project_id
  name                  = "be-${var.name}"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"
  timeout_sec           = var.timeout_seconds
  security_policy       = var.security_policy
  enable_cdn            = false
  # The origin's virtual host, not the shared site host; the browser's cookies are unaffected.
  custom_request_headers = ["Host: ${var.fqdn}"]

  backend {
    group = google_compute_global_network_endpoint_group.main.id
  }

  log_config {
    enable      = true
    sample_rate = 1
  }
}
