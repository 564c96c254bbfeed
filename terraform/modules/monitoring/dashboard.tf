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
}

resource "google_monitoring_dashboard" "main" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName  = "workplace-roleplay services"
    mosaicLayout = { columns = 24, tiles = concat(local.tiles, local.migration_tiles) }
  })
}
