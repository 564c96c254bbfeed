variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "name" {
  description = "Security policy name."
  type        = string
  default     = "edge-policy"
}

variable "model_path_prefixes" {
  description = "Path prefixes whose requests call the language model (the catalog's streaming_prefixes): throttled per IP."
  type        = list(string)

  validation {
    condition     = length(var.model_path_prefixes) > 0 && alltrue([for p in var.model_path_prefixes : can(regex("^(/[-a-z0-9_]+)+$", p))])
    error_message = "model_path_prefixes must be non-empty, lowercase absolute paths without a trailing '/'."
  }
}

variable "model_requests_per_minute" {
  description = "Requests per minute one IP may send to model-calling paths before getting 429. One office NAT address carries ~200 learners (200 x 6 turns/min = the app's 1200/min per IP); the edge sits a little above the app so the app's own Japanese 429 answers first (ADR 0027)."
  type        = number
  default     = 1500

  validation {
    condition     = var.model_requests_per_minute >= 1 && var.model_requests_per_minute <= 10000
    error_message = "model_requests_per_minute must be between 1 and 10000."
  }
}

variable "ban_requests_per_minute" {
  description = "Requests per minute to any path above which an IP is banned for ban_duration_seconds. Twice what ~200 learners behind one NAT address send at their busiest (200 x 30/min, ADR 0027)."
  type        = number
  default     = 12000

  validation {
    condition     = var.ban_requests_per_minute >= 10 && var.ban_requests_per_minute <= 100000
    error_message = "ban_requests_per_minute must be between 10 and 100000."
  }
}

variable "ban_duration_seconds" {
  description = "How long an abusive IP stays banned."
  type        = number
  default     = 600

  validation {
    condition     = var.ban_duration_seconds >= 60 && var.ban_duration_seconds <= 86400
    error_message = "ban_duration_seconds must be between 60 and 86400."
  }
}

variable "preview" {
  description = "Log-only mode for the throttle and ban rules (roll out in preview first, then enforce)."
  type        = bool
  default     = false
}
