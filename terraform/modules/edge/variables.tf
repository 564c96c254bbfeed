variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "name" {
  description = "Base name of the edge resources."
  type        = string
  default     = "site"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$", var.name))
    error_message = "name must be a short lowercase RFC 1035 name."
  }
}

variable "domains" {
  description = "Host names served by the load balancer (the legacy host first: its session cookie is host-only)."
  type        = list(string)

  validation {
    condition     = length(var.domains) > 0 && alltrue([for d in var.domains : can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$", d))])
    error_message = "domains must be a non-empty list of lowercase fully qualified host names."
  }
}

variable "routes" {
  description = "Route rules from the routing module (catalog paths, priorities, LB weights); empty means everything goes to legacy."
  type = list(object({
    service         = string
    path            = string
    exact           = bool
    full_path       = string
    prefix          = optional(string)
    service_weight  = number
    legacy_weight   = number
    canary_priority = number
    priority        = number
  }))
}

variable "url_tests" {
  description = "Expected backend (service name or \"legacy\") per sample path, rendered as URL-map test blocks."
  type = list(object({
    path    = string
    backend = string
  }))
  default = []
}

variable "backends" {
  description = "Backend service id per catalog service (the service's Cloud Run split)."
  type        = map(string)
}

variable "candidate_backends" {
  description = "Backend service id per catalog service that targets the `candidate` traffic tag (header-routed smoke tests)."
  type        = map(string)
}

variable "legacy_backend" {
  description = "Backend service id of the legacy Flask app."
  type        = string
}

variable "canary_header" {
  description = "Header whose value \"1\" routes a request to the service's candidate revision."
  type        = string
  default     = "x-canary"
}

variable "weighted_route_timeout_seconds" {
  description = "Route timeout on weighted (service/legacy) routes; a route_action otherwise defaults to 15 s and would cut SSE streams."
  type        = number
  default     = 3600

  validation {
    condition     = var.weighted_route_timeout_seconds >= 30 && var.weighted_route_timeout_seconds <= 86400
    error_message = "weighted_route_timeout_seconds must be between 30 and 86400."
  }
}
