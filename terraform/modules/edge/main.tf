# The global external Application Load Balancer (EXTERNAL_MANAGED: weighted routes need it).
resource "google_compute_global_address" "main" {
  project = var.project_id
  name    = "${var.name}-ip"
  # Keep the same address across rebuilds so DNS never changes.
  lifecycle {
    prevent_destroy = true
  }
}

resource "google_compute_target_https_proxy" "main" {
  project         = var.project_id
  name            = "${var.name}-https"
  url_map         = google_compute_url_map.main.id
  certificate_map = "//certificatemanager.googleapis.com/${google_certificate_manager_certificate_map.main.id}"
  ssl_policy      = google_compute_ssl_policy.main.id
}

resource "google_compute_target_http_proxy" "redirect" {
  project = var.project_id
  name    = "${var.name}-http"
  url_map = google_compute_url_map.redirect.id
}

resource "google_compute_global_forwarding_rule" "https" {
  project               = var.project_id
  name                  = "${var.name}-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.main.id
  port_range            = "443"
  target                = google_compute_target_https_proxy.main.id
}

resource "google_compute_global_forwarding_rule" "http" {
  project               = var.project_id
  name                  = "${var.name}-http"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.main.id
  port_range            = "80"
  target                = google_compute_target_http_proxy.redirect.id
}
