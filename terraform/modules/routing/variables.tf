variable "services" {
  description = "The service catalog's services (services.yaml `services`), keyed by catalog name."
  type = map(object({
    cloud_run_name     = string
    api_prefix         = string
    prefixes           = list(string)
    exact              = list(string)
    streaming_prefixes = list(string)
  }))

  validation {
    condition     = length(var.services) > 0
    error_message = "The catalog must list at least one service."
  }
  validation {
    condition = alltrue(flatten([
      for svc in values(var.services) : [
        for p in svc.prefixes : startswith(p, "/") && !endswith(p, "/")
      ]
    ]))
    error_message = "Every catalog prefix must start with '/' and must not end with '/'."
  }
  validation {
    condition     = alltrue([for svc in values(var.services) : can(regex("^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$", svc.cloud_run_name))])
    error_message = "cloud_run_name must be a valid Cloud Run service name (lowercase letters, digits, '-')."
  }
}

variable "traffic" {
  description = "Per-service split from traffic.auto.tfvars.json: stable/candidate Cloud Run revisions and the LB share kept on legacy."
  type = map(object({
    stable_revision    = string
    candidate_revision = optional(string)
    candidate_percent  = number
    legacy_percent     = number
  }))

  validation {
    condition = alltrue([
      for t in values(var.traffic) : alltrue([
        for p in [t.candidate_percent, t.legacy_percent] : p >= 0 && p <= 100 && floor(p) == p
      ])
    ])
    error_message = "candidate_percent and legacy_percent must be whole numbers between 0 and 100."
  }
  validation {
    condition     = alltrue([for t in values(var.traffic) : t.candidate_revision != null || t.candidate_percent == 0])
    error_message = "candidate_percent must be 0 when candidate_revision is null."
  }
  validation {
    condition     = alltrue([for t in values(var.traffic) : t.candidate_revision != t.stable_revision])
    error_message = "candidate_revision must differ from stable_revision."
  }
  # Cross-variable checks (Terraform >= 1.9): the traffic file and the catalog must name the same services.
  validation {
    condition     = toset(keys(var.traffic)) == toset(keys(var.services))
    error_message = "The traffic file must have exactly one entry per catalog service (see services.yaml)."
  }
  validation {
    condition = alltrue([
      for name, t in var.traffic : alltrue([
        for rev in compact([t.stable_revision, t.candidate_revision]) :
        can(var.services[name]) && startswith(rev, "${try(var.services[name].cloud_run_name, "")}-")
      ])
    ])
    error_message = "Revision names must start with the Cloud Run service name and '-' (e.g. migrate-session-stable)."
  }
}

variable "legacy_fallback" {
  description = "True sends the whole site to the legacy backend (the 30-second full rollback)."
  type        = bool
  default     = false
}

variable "canary_header" {
  description = "Request header that routes a request to the candidate (tag `candidate`) of a service, for smoke tests."
  type        = string
  default     = "x-canary"

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]*$", var.canary_header))
    error_message = "canary_header must be a lowercase HTTP header name."
  }
}
