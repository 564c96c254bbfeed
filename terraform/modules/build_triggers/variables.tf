variable "project_id" {
  description = "GCP project the builds deploy to."
  type        = string
}

variable "region" {
  description = "Region of the triggers and of the deployments."
  type        = string
}

variable "environment" {
  description = "Terraform root the canary step applies (_ENV)."
  type        = string
}

variable "services" {
  description = "Catalog services: name => folder (the function folder each trigger watches)."
  type        = map(string)
}

variable "github_owner" {
  description = "GitHub organisation or user of the repository."
  type        = string
}

variable "github_repo" {
  description = "GitHub repository name."
  type        = string
}

variable "branch_regex" {
  description = "Branches whose pushes build and canary (anchored regex)."
  type        = string
  default     = "^main$"

  validation {
    condition     = startswith(var.branch_regex, "^") && endswith(var.branch_regex, "$")
    error_message = "branch_regex must be anchored with ^ and $."
  }
}

variable "service_account_email" {
  description = "The Cloud Build deployer account the builds run as (never the default compute account)."
  type        = string
}

variable "domain" {
  description = "Load-balancer host the smoke test calls (_DOMAIN)."
  type        = string
}

variable "canary_percent" {
  description = "Share of a service's traffic a new build's candidate gets (_CANARY_PERCENT)."
  type        = number
  default     = 10

  validation {
    condition     = var.canary_percent >= 0 && var.canary_percent <= 50 && floor(var.canary_percent) == var.canary_percent
    error_message = "canary_percent must be a whole number between 0 and 50 (a canary is a minority share)."
  }
}
