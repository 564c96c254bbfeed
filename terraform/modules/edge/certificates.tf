# Certificate Manager with DNS authorization: the certificate is ACTIVE before DNS moves from the legacy
# host to this load balancer, so the cutover has no certificate gap (gcp.md §2.6).
resource "google_certificate_manager_dns_authorization" "main" {
  for_each = toset(var.domains)

  project = var.project_id
  name    = "dnsauth-${replace(each.value, ".", "-")}"
  domain  = each.value
}

resource "google_certificate_manager_certificate" "main" {
  project = var.project_id
  name    = "${var.name}-cert"
  managed {
    domains            = var.domains
    dns_authorizations = [for d in var.domains : google_certificate_manager_dns_authorization.main[d].id]
  }
}

resource "google_certificate_manager_certificate_map" "main" {
  project = var.project_id
  name    = "${var.name}-certmap"
}

resource "google_certificate_manager_certificate_map_entry" "main" {
  for_each = toset(var.domains)

  project      = var.project_id
  name         = "${var.name}-${replace(each.value, ".", "-")}"
  map          = google_certificate_manager_certificate_map.main.name
  hostname     = each.value
  certificates = [google_certificate_manager_certificate.main.id]
}

resource "google_compute_ssl_policy" "main" {
  project         = var.project_id
  name            = "${var.name}-tls"
  profile         = "RESTRICTED"
  min_tls_version = "TLS_1_2"
}
