resource "google_monitoring_notification_channel" "main" {
  for_each = var.notification_channels

  project      = var.project_id
  type         = each.value.type
  display_name = each.value.display_name
  labels       = each.value.labels
}

locals {
  channels = concat([for c in google_monitoring_notification_channel.main : c.id], var.existing_channel_ids)
  # PromQL label matchers for the app's own metrics (scraped from /metrics by the sidecar).
  streaming_regex = {
    for name, s in var.services : name => length(s.streaming_prefixes) == 0 ? "^$" : "^(${join("|", s.streaming_prefixes)})(/.*)?$"
  }
}
