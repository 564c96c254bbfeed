# A serverless NEG and the backend service in front of it. Serverless NEGs reject timeout_sec, health
# checks, balancing modes and LB session affinity, so none of them is set (gcp.md §2.4, policy-tested).
locals {
  # NEGs are immutable and cannot be deleted while a backend uses them: a config-derived suffix makes
  # every change a new name, so create_before_destroy can swap them.
  neg_suffix = substr(sha1(jsonencode([var.region, var.cloud_run_service, var.cloud_run_tag])), 0, 6)
}

resource "google_compute_region_network_endpoint_group" "main" {
  project               = var.project_id
  region                = var.region
  name                  = "neg-${var.name}-${local.neg_suffix}"
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = var.cloud_run_service
    tag     = var.cloud_run_tag
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_compute_backend_service" "main" {
  project               = var.project_id
  name                  = "be-${var.name}"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"
  security_policy       = var.security_policy
  enable_cdn            = false
  # SSE must not be buffered or compressed on the way out (gcp.md §3.1).
  compression_mode = "DISABLED"

  backend {
    group = google_compute_region_network_endpoint_group.main.id
  }

  log_config {
    enable      = true
    sample_rate = var.log_sample_rate
  }
}
