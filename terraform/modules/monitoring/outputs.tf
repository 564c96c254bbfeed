output "uptime_check_ids" {
  description = "Uptime check id per service."
  value       = { for name, c in google_monitoring_uptime_check_config.health : name => c.uptime_check_id }
}

output "channel_ids" {
  description = "Notification channels every alert notifies."
  value       = local.channels
}
