variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "services" {
  description = "Per catalog service: Cloud Run name, health path and the streaming path prefixes (excluded from p95 latency)."
  type = map(object({
    cloud_run_name     = string
    health_path        = string
    streaming_prefixes = list(string)
  }))
}

variable "host" {
  description = "Public host the uptime checks call (through the load balancer, the only way in)."
  type        = string
}

variable "notification_channels" {
  description = "Channels to create: key => type (email, slack, pagerduty, webhook_tokenauth...), display name and labels."
  type = map(object({
    type         = string
    display_name = string
    labels       = map(string)
  }))
  default = {}
}

variable "existing_channel_ids" {
  description = "Notification channel ids created elsewhere (e.g. the on-call PagerDuty channel)."
  type        = list(string)
  default     = []
}

variable "runbook_url" {
  description = "Base URL of docs/runbook.md; every alert links to its section."
  type        = string

  validation {
    condition     = startswith(var.runbook_url, "https://")
    error_message = "runbook_url must be an https URL."
  }
}

variable "error_ratio_threshold" {
  description = "5xx share of requests that pages (escalation criterion: 5 %)."
  type        = number
  default     = 0.05

  validation {
    condition     = var.error_ratio_threshold > 0 && var.error_ratio_threshold < 1
    error_message = "error_ratio_threshold is a ratio in (0, 1)."
  }
}

variable "latency_p95_seconds" {
  description = "p95 latency of non-streaming routes, and p95 time to first token of streaming ones, that pages (5 s)."
  type        = number
  default     = 5

  validation {
    condition     = var.latency_p95_seconds > 0 && var.latency_p95_seconds <= 60
    error_message = "latency_p95_seconds must be in (0, 60]."
  }
}

variable "uptime_regions" {
  description = "Uptime checker regions (at least three; an alert needs two failing)."
  type        = list(string)
  default     = ["ASIA_PACIFIC", "USA", "EUROPE"]

  validation {
    condition     = length(var.uptime_regions) >= 3 && alltrue([for r in var.uptime_regions : contains(["USA", "EUROPE", "SOUTH_AMERICA", "ASIA_PACIFIC", "USA_OREGON", "USA_IOWA", "USA_VIRGINIA"], r)])
    error_message = "uptime_regions must name at least three valid checker regions."
  }
}
