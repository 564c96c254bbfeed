variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "name" {
  description = "Base name of the legacy NEG and backend service."
  type        = string
  default     = "legacy"
}

variable "fqdn" {
  description = "Public host name of the legacy Flask app (its origin, not the shared site host)."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$", var.fqdn))
    error_message = "fqdn must be a fully qualified lowercase host name."
  }
}

variable "port" {
  description = "HTTPS port of the legacy origin."
  type        = number
  default     = 443

  validation {
    condition     = var.port >= 1 && var.port <= 65535
    error_message = "port must be a TCP port."
  }
}

variable "security_policy" {
  description = "Cloud Armor policy id attached to the legacy backend."
  type        = string
}

variable "timeout_seconds" {
  description = "Backend timeout for the legacy origin (internet NEGs, unlike serverless ones, accept it)."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 86400
    error_message = "timeout_seconds must be between 1 and 86400."
  }
}
