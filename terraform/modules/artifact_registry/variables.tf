variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "region" {
  description = "Repository location."
  type        = string
}

variable "repository_id" {
  description = "Docker repository id."
  type        = string
  default     = "services"
}

variable "writers" {
  description = "IAM members that push images (the Cloud Build deployer account)."
  type        = list(string)
}

variable "readers" {
  description = "IAM members that pull images (Cloud Run runtime accounts pull through the service agent; add others here)."
  type        = list(string)
  default     = []
}

variable "keep_recent" {
  description = "Tagged versions kept per image regardless of age (rollback targets)."
  type        = number
  default     = 30

  validation {
    condition     = var.keep_recent >= 5
    error_message = "keep_recent must be at least 5 so recent rollback targets survive cleanup."
  }
}
