# One dashboard: per-service request rate, 5xx ratio, p95 latency (non-streaming) and the learner-visible time to
# first token (stream_first_token_seconds, the metric the first_token alert watches).
locals {
  tiles = flatten([
    for i, name in sort(keys(var.services)) : [
      {
        xPos = 0, yPos = i * 4, width = 6, height = 4
        widget = {
          title = "${var.services[name].cloud_run_name}: requests/s by status class"
          xyChart = { dataSets = [{
            plotType        = "STACKED_AREA"
            timeSeriesQuery = { prometheusQuery = "sum by (response_code_class) (rate(run_googleapis_com:request_count{monitored_resource=\"cloud_run_revision\",service_name=\"${var.services[name].cloud_run_name}\"}[5m]))" }
          }] }
        }
      },
      {
        xPos = 6, yPos = i * 4, width = 6, height = 4
        widget = {
          title = "${var.services[name].cloud_run_name}: 5xx ratio"
          xyChart = { dataSets = [{
            plotType        = "LINE"
            timeSeriesQuery = { prometheusQuery = "sum(rate(run_googleapis_com:request_count{monitored_resource=\"cloud_run_revision\",service_name=\"${var.services[name].cloud_run_name}\",response_code_class=\"5xx\"}[5m])) / sum(rate(run_googleapis_com:request_count{monitored_resource=\"cloud_run_revision\",service_name=\"${var.services[name].cloud_run_name}\"}[5m]))" }
          }], thresholds = [{ value = var.error_ratio_threshold }] }
        }
      },
      {
        xPos = 12, yPos = i * 4, width = 6, height = 4
        widget = {
          title = "${var.services[name].cloud_run_name}: p95 latency (non-streaming), s"
          xyChart = { dataSets = [{
            plotType        = "LINE"
            timeSeriesQuery = { prometheusQuery = "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service=\"${name}\",route!~\"${local.streaming_regex[name]}\"}[5m])))" }
          }], thresholds = [{ value = var.latency_p95_seconds }] }
        }
      },
      {
        xPos = 18, yPos = i * 4, width = 6, height = 4
        widget = {
          title = "${var.services[name].cloud_run_name}: p95 time to first token seen by learners, s"
          xyChart = { dataSets = [{
            plotType        = "LINE"
            timeSeriesQuery = { prometheusQuery = "histogram_quantile(0.95, sum by (le) (rate(stream_first_token_seconds_bucket{service=\"${name}\",route=~\"${local.streaming_regex[name]}\"}[5m])))" }
          }], thresholds = [{ value = var.latency_p95_seconds }] }
        }
      },
    ]
  ])

  # Legacy-session migration outcomes (docs/migration.md), below the per-service rows.
  migration_tiles = [{
    xPos = 0, yPos = length(var.services) * 4, width = 12, height = 4
    widget = {
      title = "Legacy sessions migrated (per minute, by result)"
      xyChart = { dataSets = [{
        plotType        = "STACKED_BAR"
        timeSeriesQuery = { prometheusQuery = "sum by (result) (increase(legacy_sessions_migrated_total[1m]))" }
      }] }
    }
  }]

  # Product row (issue 15; docs/architecture.md, Observability): what learners do, counted on the server.
  product_y = length(var.services) * 4 + 4
  product_queries = [
    ["Sessions started per hour, by mode", "sum by (mode) (increase(product_sessions_started_total[1h]))"],
    ["Sessions completed per hour, by mode", "sum by (mode) (increase(product_sessions_completed_total[1h]))"],
    ["Completion rate by mode and category (1 d)", "sum by (mode, category) (increase(product_sessions_completed_total[1d])) / sum by (mode, category) (increase(product_sessions_started_total[1d]))"],
    ["Funnel: feedback asked per session started (1 d)", "sum by (mode) (increase(product_reports_requested_total{kind=\"feedback\"}[1d])) / sum by (mode) (increase(product_sessions_started_total[1d]))"],
    ["Turns per completed session (median)", "histogram_quantile(0.5, sum by (mode, le) (rate(product_session_turns_bucket[1d])))"],
    ["Summaries and reports requested per hour", "sum by (mode, kind) (increase(product_reports_requested_total[1h]))"],
    ["Hints used per hour", "sum by (mode, category) (increase(product_hints_used_total[1h]))"],
    ["Quiz answers per hour, by result", "sum by (mode, result) (increase(product_quiz_answers_total[1h]))"],
    ["Forks per hour", "sum by (mode) (increase(product_forks_total[1h]))"],
    ["Simple-response share of turns", "sum by (mode) (rate(product_turns_total{reply=\"simple\"}[1h])) / sum by (mode) (rate(product_turns_total[1h]))"],
    ["Model fallback rate", "sum(rate(model_fallbacks_total[1h])) / sum(rate(model_call_duration_seconds_count[1h]))"],
    ["Learner-visible error rate per route", "sum by (service, route) (rate(learner_errors_total[5m])) / sum by (service, route) (rate(http_requests_total[5m]))"],
    ["Satisfaction by mode: share of 👍", "sum by (mode, target) (increase(product_ratings_total{value=\"up\"}[1d])) / sum by (mode, target) (increase(product_ratings_total[1d]))"],
    ["Satisfaction by scenario: share of 👍", "sum by (scenario) (increase(product_ratings_total{value=\"up\"}[1d])) / sum by (scenario) (increase(product_ratings_total[1d]))"],
    ["Satisfaction by model: share of 👍", "sum by (model) (increase(product_ratings_total{value=\"up\"}[1d])) / sum by (model) (increase(product_ratings_total[1d]))"],
  ]
  product_tiles = [
    for i, q in local.product_queries : {
      xPos = (i % 4) * 6, yPos = local.product_y + floor(i / 4) * 4, width = 6, height = 4
      widget = {
        title   = "Product: ${q[0]}"
        xyChart = { dataSets = [{ plotType = "LINE", timeSeriesQuery = { prometheusQuery = q[1] } }] }
      }
    }
  ]
}

resource "google_monitoring_dashboard" "main" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName  = "workplace-roleplay services"
    mosaicLayout = { columns = 24, tiles = concat(local.tiles, local.migration_tiles, local.product_tiles) }
  })
}
