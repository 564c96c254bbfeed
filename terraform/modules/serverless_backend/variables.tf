variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "region" {
  description = "Region of the Cloud Run service (a serverless NEG must be in the same region)."
  type        = string
}

variable "name" {
  description = "Base name of the NEG and backend service (e.g. chat, chat-candidate)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,40}[a-z0-9])?$", var.name))
    error_message = "name must be a lowercase RFC 1035 name of at most 42 characters."
  }
}

variable "cloud_run_service" {
  description = "Cloud Run service the NEG points at."
  type        = string
}

variable "cloud_run_tag" {
  description = "Cloud Run traffic tag to route to (e.g. candidate for header-routed smoke tests); null for the service's split."
  type        = string
  default     = null
}

variable "security_policy" {
  description = "Cloud Armor policy id attached to the backend service."
  type        = string
}

variable "log_sample_rate" {
  description = "Share of requests logged by the load balancer (0-1)."
  type        = number
  default     = 1

  validation {
    condition     = var.log_sample_rate >= 0 && var.log_sample_rate <= 1
    error_message = "log_sample_rate must be between 0 and 1."
  }
}
