# The escalation criteria (docs/architecture.md, Observability) as alert policies; Prometheus twins live in ops/prometheus/alerts.yml.

# 5xx ratio > 5 % for 5 minutes: a true ratio of 5xx to all requests, never a bare request rate.
resource "google_monitoring_alert_policy" "error_ratio" {
  for_each = var.services

  project               = var.project_id
  display_name          = "${each.value.cloud_run_name}: 5xx ratio > ${var.error_ratio_threshold * 100} % for 5 min"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = local.channels

  conditions {
    display_name = "5xx / all requests"
    condition_prometheus_query_language {
      query               = <<-EOT
        sum(rate(run_googleapis_com:request_count{monitored_resource="cloud_run_revision",service_name="${each.value.cloud_run_name}",response_code_class="5xx"}[5m]))
        /
        sum(rate(run_googleapis_com:request_count{monitored_resource="cloud_run_revision",service_name="${each.value.cloud_run_name}"}[5m]))
        > ${var.error_ratio_threshold}
      EOT
      duration            = "300s"
      evaluation_interval = "60s"
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "${each.value.cloud_run_name}: 5xx ratio above ${var.error_ratio_threshold * 100} %"
    content   = "More than ${var.error_ratio_threshold * 100} % of requests to ${each.value.cloud_run_name} failed with 5xx for 5 minutes. Runbook: ${var.runbook_url}#performance-degradation-l1 (roll back a canary: ${var.runbook_url}#roll-back-one-service-canary-abort-bad-promotion)."
  }
}

# p95 > 5 s for 3 minutes on non-streaming routes (a stream's duration is not its latency).
resource "google_monitoring_alert_policy" "latency" {
  for_each = var.services

  project               = var.project_id
  display_name          = "${each.value.cloud_run_name}: p95 latency > ${var.latency_p95_seconds} s for 3 min (non-streaming)"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.channels

  conditions {
    display_name = "p95 of http_request_duration_seconds, streaming routes excluded"
    condition_prometheus_query_language {
      query               = <<-EOT
        histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="${each.key}",route!~"${local.streaming_regex[each.key]}"}[5m])))
        > ${var.latency_p95_seconds}
      EOT
      duration            = "180s"
      evaluation_interval = "60s"
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "${each.value.cloud_run_name}: slow responses"
    content   = "p95 latency of non-streaming routes of ${each.value.cloud_run_name} is above ${var.latency_p95_seconds} s. Runbook: ${var.runbook_url}#performance-degradation-l1."
  }
}

# Streaming routes: p95 time to first token > 5 s for 3 minutes, as the learner sees it: from the request's
# arrival to the first token event sent (stream_first_token_seconds, scraped from /metrics by the sidecar like
# http_request_duration_seconds). The upstream model's first chunk alone would miss retries, fallbacks and our own work.
resource "google_monitoring_alert_policy" "first_token" {
  for_each = { for name, s in var.services : name => s if length(s.streaming_prefixes) > 0 }

  project               = var.project_id
  display_name          = "${each.value.cloud_run_name}: p95 time to first token > ${var.latency_p95_seconds} s for 3 min"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.channels

  conditions {
    display_name = "p95 of stream_first_token_seconds (learner-visible)"
    condition_prometheus_query_language {
      query               = <<-EOT
        histogram_quantile(0.95, sum by (le) (rate(stream_first_token_seconds_bucket{service="${each.key}",route=~"${local.streaming_regex[each.key]}"}[5m])))
        > ${var.latency_p95_seconds}
      EOT
      duration            = "180s"
      evaluation_interval = "60s"
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "${each.value.cloud_run_name}: slow first token"
    content   = "Learners wait more than ${var.latency_p95_seconds} s for the first token on ${each.value.cloud_run_name}. Check Gemini 429/503 first. Runbook: ${var.runbook_url}#gemini-503--429-ai-outage-l2."
  }
}

# Health path failing from at least two checker regions for a minute.
resource "google_monitoring_alert_policy" "uptime" {
  for_each = var.services

  project               = var.project_id
  display_name          = "${each.value.cloud_run_name}: health check failing for 1 min"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = local.channels

  conditions {
    display_name = "uptime check failing in >= 2 regions"
    condition_threshold {
      filter          = "metric.type=\"monitoring.googleapis.com/uptime_check/check_passed\" AND metric.label.check_id=\"${google_monitoring_uptime_check_config.health[each.key].uptime_check_id}\" AND resource.type=\"uptime_url\""
      comparison      = "COMPARISON_GT"
      threshold_value = 1
      duration        = "60s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_NEXT_OLDER"
        cross_series_reducer = "REDUCE_COUNT_FALSE"
        group_by_fields      = ["resource.label.host"]
      }
      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "${each.value.cloud_run_name}: health check failing"
    content   = "https://${var.host}${each.value.health_path} fails from several regions. If every service fails, consider the full rollback: ${var.runbook_url}#full-rollback-to-legacy-l3-within-30-s. Runbook: ${var.runbook_url}#performance-degradation-l1."
  }
}
