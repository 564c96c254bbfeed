# Cloud Armor at the edge: a per-IP throttle on the paths that spend model quota, a ban for floods, a
# block of Log4Shell-style probes, and an explicit default rule. App-level limits (Redis) sit behind it.
locals {
  # One regex keeps the rule within Cloud Armor's limit of five subexpressions per expression.
  model_paths_regex = "^(${join("|", var.model_path_prefixes)})(/.*)?$"
}

resource "google_compute_security_policy" "main" {
  project     = var.project_id
  name        = var.name
  description = "Edge policy of workplace-roleplay: throttle model paths, ban floods."
  type        = "CLOUD_ARMOR"

  rule {
    action      = "deny(403)"
    priority    = 900
    description = "Block JNDI lookup probes (CVE-2021-44228 and variants)."
    match {
      expr {
        expression = "evaluatePreconfiguredExpr('cve-canary')"
      }
    }
  }

  rule {
    action      = "throttle"
    priority    = 1000
    description = "Per-IP throttle on model-calling paths (each streamed turn is one request)."
    preview     = var.preview
    match {
      expr {
        expression = "request.path.matches('${local.model_paths_regex}')"
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = var.model_requests_per_minute
        interval_sec = 60
      }
    }
  }

  rule {
    action      = "rate_based_ban"
    priority    = 2000
    description = "Ban an IP that floods any path."
    preview     = var.preview
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    rate_limit_options {
      conform_action   = "allow"
      exceed_action    = "deny(429)"
      enforce_on_key   = "IP"
      ban_duration_sec = var.ban_duration_seconds
      rate_limit_threshold {
        count        = var.ban_requests_per_minute
        interval_sec = 60
      }
    }
  }

  rule {
    action      = "allow"
    priority    = 2147483647
    description = "Default: allow."
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}
