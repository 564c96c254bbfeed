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
