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
  description = "IAM members that push images (the Cloud Build deployer), keyed by a static name (for_each must be known at plan)."
  type        = map(string)
}

variable "readers" {
  description = "IAM members that pull images, keyed by a static name (Cloud Run pulls through its service agent; add others here)."
  type        = map(string)
  default     = {}
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
