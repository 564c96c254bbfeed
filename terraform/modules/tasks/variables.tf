variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "region" {
  description = "Queue location (same region as the worker)."
  type        = string
}

variable "name" {
  description = "Queue name."
  type        = string
  default     = "background"
}

variable "worker_uri" {
  description = "run.app URL of the worker service (the OIDC audience and the target host)."
  type        = string
}

variable "producers" {
  description = "IAM members allowed to enqueue tasks, keyed by service name (static keys: for_each must be known at plan)."
  type        = map(string)
}

variable "max_dispatches_per_second" {
  description = "Dispatch rate cap (protects Firestore and the model quota from a backlog burst)."
  type        = number
  default     = 5

  validation {
    condition     = var.max_dispatches_per_second > 0 && var.max_dispatches_per_second <= 500
    error_message = "max_dispatches_per_second must be in (0, 500]."
  }
}

variable "max_concurrent_dispatches" {
  description = "Tasks in flight at once."
  type        = number
  default     = 10

  validation {
    condition     = var.max_concurrent_dispatches >= 1 && var.max_concurrent_dispatches <= 5000
    error_message = "max_concurrent_dispatches must be between 1 and 5000."
  }
}

variable "max_attempts" {
  description = "Attempts per task before it is dropped (handlers are idempotent, keyed by task name)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_attempts >= 1 && var.max_attempts <= 100
    error_message = "max_attempts must be between 1 and 100."
  }
}
