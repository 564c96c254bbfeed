variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "secrets" {
  description = "Secret containers to create: secret id => description. Versions are added out of band (gcloud secrets versions add) and pinned per service."
  type        = map(string)

  validation {
    condition     = alltrue([for id in keys(var.secrets) : can(regex("^[a-z][-a-z0-9]{0,254}$", id))])
    error_message = "Secret ids must be lowercase letters, digits and '-'."
  }
}

variable "labels" {
  description = "Labels on every secret."
  type        = map(string)
  default     = {}
}

variable "initial_ids" {
  description = "Secrets whose version 1 this apply writes (the bootstrap of a new environment); empty afterwards."
  type        = set(string)
  default     = []
}

variable "initial_values" {
  description = "Initial material per secret id (bootstrap only). Sensitive; written write-only, never stored in state."
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "pinned_versions" {
  description = "The version each service is pinned to, per secret id (must be 1 for secrets written at bootstrap)."
  type        = map(string)
  default     = {}
}
