variable "environment" {
  description = "Environment name; becomes ENV."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "project_id" {
  description = "GCP project (GOOGLE_CLOUD_PROJECT)."
  type        = string
}

variable "region" {
  description = "Region (GOOGLE_CLOUD_LOCATION for Vertex AI)."
  type        = string
}

variable "firestore_database" {
  description = "Firestore database id (FIRESTORE_DATABASE)."
  type        = string
  default     = "(default)"
}

variable "jwt_active_kid" {
  description = "Key id that signs new access tokens (JWT_ACTIVE_KID)."
  type        = string

  validation {
    condition     = length(var.jwt_active_kid) > 0 && var.jwt_active_kid != "local-dev"
    error_message = "jwt_active_kid must name a real key id."
  }
}

variable "ale_primary_kid" {
  description = "Key id that encrypts new data (ALE_PRIMARY_KID)."
  type        = string

  validation {
    condition     = length(var.ale_primary_kid) > 0 && var.ale_primary_kid != "local-dev"
    error_message = "ale_primary_kid must name a real key id."
  }
}

variable "gemini_use_vertex" {
  description = "Gemini through Vertex AI with the runtime account (no key secret) or with the gemini-api-key secret."
  type        = bool
  default     = true
}

variable "runtime_switches" {
  description = "Emergency settings flipped by `ops switch` (FALLBACK_AUTH, MODEL_FORCE_SIMPLE)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.runtime_switches) : contains(["FALLBACK_AUTH", "MODEL_FORCE_SIMPLE"], k)])
    error_message = "runtime_switches may only set FALLBACK_AUTH and MODEL_FORCE_SIMPLE; other settings go through review."
  }
}

variable "redis_mode" {
  description = "standalone (Memorystore instance) or cluster (Memorystore for Redis Cluster); ADR 0019."
  type        = string
  default     = "standalone"

  validation {
    condition     = contains(["standalone", "cluster"], var.redis_mode)
    error_message = "redis_mode must be standalone or cluster."
  }
}

variable "redis_iam_auth" {
  description = "The services AUTH with their account's access token (Memorystore for Redis Cluster IAM auth)."
  type        = bool
  default     = false
}

variable "trace_sample_ratio" {
  description = "Share of new traces sampled (TRACE_SAMPLE_RATIO); a sampled parent from the load balancer is always followed."
  type        = number
  default     = 0.1

  validation {
    condition     = var.trace_sample_ratio >= 0 && var.trace_sample_ratio <= 1
    error_message = "trace_sample_ratio must be between 0 and 1."
  }
}
