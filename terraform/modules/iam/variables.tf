variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "runtime_service_accounts" {
  description = "Runtime service account emails the deployer may deploy revisions as (actAs)."
  type        = map(string)
}

variable "breakglass_members" {
  description = "Groups or users who may impersonate the break-glass account during an incident."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.breakglass_members : can(regex("^(group|user):", m))])
    error_message = "breakglass_members must be group: or user: members."
  }
}
