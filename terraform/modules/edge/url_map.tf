# The URL map is generated from the service catalog through the routing module: one rule per claimed
# path (longest first), a header-routed twin for candidate smoke tests, legacy as the default.
locals {
  backend_of = merge(var.backends, { legacy = var.legacy_backend })
}

resource "google_compute_url_map" "main" {
  project         = var.project_id
  name            = "${var.name}-https"
  description     = "Generated from services.yaml; unclaimed paths go to the legacy app."
  default_service = var.legacy_backend

  host_rule {
    hosts        = var.domains
    path_matcher = "site"
  }

  path_matcher {
    name            = "site"
    default_service = var.legacy_backend

    # Smoke tests of a candidate: `x-canary: 1` reaches the revision tagged `candidate`.
    dynamic "route_rules" {
      for_each = var.routes
      content {
        priority = route_rules.value.canary_priority
        service  = var.candidate_backends[route_rules.value.service]
        match_rules {
          full_path_match = route_rules.value.full_path
          header_matches {
            header_name = var.canary_header
            exact_match = "1"
          }
        }
        dynamic "match_rules" {
          for_each = route_rules.value.prefix == null ? [] : [route_rules.value.prefix]
          content {
            prefix_match = match_rules.value
            header_matches {
              header_name = var.canary_header
              exact_match = "1"
            }
          }
        }
      }
    }

    dynamic "route_rules" {
      for_each = var.routes
      content {
        priority = route_rules.value.priority
        # Unweighted routes name one backend; a gradual move to the services uses a weighted action.
        service = (route_rules.value.legacy_weight == 0 ? var.backends[route_rules.value.service]
        : route_rules.value.legacy_weight == 100 ? var.legacy_backend : null)
        match_rules {
          full_path_match = route_rules.value.full_path
        }
        dynamic "match_rules" {
          for_each = route_rules.value.prefix == null ? [] : [route_rules.value.prefix]
          content {
            prefix_match = match_rules.value
          }
        }
        dynamic "route_action" {
          for_each = route_rules.value.legacy_weight > 0 && route_rules.value.legacy_weight < 100 ? [route_rules.value] : []
          content {
            weighted_backend_services {
              backend_service = var.backends[route_action.value.service]
              weight          = route_action.value.service_weight
            }
            weighted_backend_services {
              backend_service = var.legacy_backend
              weight          = route_action.value.legacy_weight
            }
            timeout {
              seconds = var.weighted_route_timeout_seconds
            }
          }
        }
      }
    }
  }

  # Validated by the API on every apply: a routing regression fails the apply, not the users.
  dynamic "test" {
    for_each = var.url_tests
    content {
      description = "${test.value.path} -> ${test.value.backend}"
      host        = var.domains[0]
      path        = test.value.path
      service     = local.backend_of[test.value.backend]
    }
  }
}

resource "google_compute_url_map" "redirect" {
  project     = var.project_id
  name        = "${var.name}-http-redirect"
  description = "Port 80: redirect everything to HTTPS."

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}
