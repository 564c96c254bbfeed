variable "project_id" {
  description = "GCP project of the environment."
  type        = string

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a valid GCP project id."
  }
}

variable "environment" {
  description = "Environment name; becomes the services' ENV setting."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "region" {
  description = "Region of Cloud Run, Memorystore, Cloud Tasks and Artifact Registry."
  type        = string
  default     = "asia-northeast1"
}

variable "firestore_location" {
  description = "Firestore location id."
  type        = string
  default     = "asia-northeast1"
}

variable "domains" {
  description = "Host names of the site (the legacy app's public host first: the legacy session cookie is host-only)."
  type        = list(string)
}

variable "legacy_fqdn" {
  description = "Origin host of the legacy Flask app behind the internet NEG."
  type        = string
}

variable "services" {
  description = "The service catalog's services (yamldecode of services.yaml)."
  type = map(object({
    cloud_run_name     = string
    api_prefix         = string
    prefixes           = list(string)
    exact              = list(string)
    streaming_prefixes = list(string)
    background_work    = optional(bool, false)
  }))
}

variable "traffic" {
  description = "Per-service split from the environment's traffic.auto.tfvars.json (validated by the routing module)."
  type = map(object({
    stable_revision    = string
    candidate_revision = optional(string)
    candidate_percent  = number
    legacy_percent     = number
  }))
}

variable "legacy_fallback" {
  description = "Whole site to the legacy backend (the 30-second full rollback)."
  type        = bool
}

variable "bootstrap" {
  description = "True only for an environment's first apply: names each first revision after its stable_revision. Set back to false afterwards."
  type        = bool
  default     = false
}

variable "initial_secrets" {
  description = "Bootstrap only: initial material per secret id (jwt-keys, ale-keys, csrf-secret, legacy-secret-key, and gemini keys without Vertex). Written write-only, never in state."
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "worker_service" {
  description = "Catalog service whose image also runs as the private Cloud Tasks worker."
  type        = string
  default     = "migrate_session"
}

variable "secret_versions" {
  description = "Pinned version per externally managed secret (jwt-keys, ale-keys, csrf-secret, legacy-secret-key and, without Vertex, gemini keys)."
  type        = map(string)

  validation {
    condition     = alltrue([for v in values(var.secret_versions) : can(regex("^[0-9]+$", v))])
    error_message = "Secret versions must be pinned numbers (never \"latest\")."
  }
}

variable "jwt_active_kid" {
  description = "Key id (in the jwt-keys secret) that signs new access tokens."
  type        = string

  validation {
    condition     = length(var.jwt_active_kid) > 0 && var.jwt_active_kid != "local-dev"
    error_message = "jwt_active_kid must name a real key id."
  }
}

variable "ale_primary_kid" {
  description = "Key id (in the ale-keys secret) that encrypts new data."
  type        = string

  validation {
    condition     = length(var.ale_primary_kid) > 0 && var.ale_primary_kid != "local-dev"
    error_message = "ale_primary_kid must name a real key id."
  }
}

variable "gemini_use_vertex" {
  description = "Reach Gemini through Vertex AI with the runtime service account (no API key); false uses the gemini-api-key secret."
  type        = bool
  default     = true
}

variable "scaling" {
  description = "Per-service instance bounds and concurrency (services missing here get the defaults)."
  type = map(object({
    min_instances = number
    max_instances = number
    concurrency   = number
  }))
  default = {}
}

variable "deletion_protection" {
  description = "Protect Cloud Run services and Firestore from destroy."
  type        = bool
  default     = true
}

variable "redis_topology" {
  description = "instance (Memorystore STANDARD_HA, one primary) or cluster (Memorystore for Redis Cluster); ADR 0019."
  type        = string
  default     = "instance"

  validation {
    condition     = contains(["instance", "cluster"], var.redis_topology)
    error_message = "redis_topology must be instance or cluster."
  }
}

variable "redis_cluster" {
  description = "Shape of the cluster when redis_topology = cluster."
  type = object({
    shard_count        = optional(number, 3)
    replicas_per_shard = optional(number, 1)
    node_type          = optional(string, "REDIS_SHARED_CORE_NANO")
    iam_auth           = optional(bool, true)
  })
  default = {}
}

variable "redis_tier" {
  description = "Memorystore tier (STANDARD_HA; BASIC only for throwaway environments)."
  type        = string
  default     = "STANDARD_HA"
}

variable "redis_memory_gb" {
  description = "Memorystore size in GB."
  type        = number
  default     = 1
}

variable "armor_preview" {
  description = "Cloud Armor throttle/ban rules in log-only preview."
  type        = bool
  default     = false
}

variable "notification_channels" {
  description = "Alert notification channels to create (see modules/monitoring)."
  type = map(object({
    type         = string
    display_name = string
    labels       = map(string)
  }))
  default = {}
}

variable "existing_channel_ids" {
  description = "Existing notification channel ids to notify as well."
  type        = list(string)
  default     = []
}

variable "runbook_url" {
  description = "Base URL of docs/runbook.md for alert documentation."
  type        = string
}

variable "breakglass_members" {
  description = "Who may impersonate the break-glass account."
  type        = list(string)
  default     = []
}

variable "runtime_switches" {
  description = "Emergency settings flipped by `ops switch` (switches.auto.tfvars.json): FALLBACK_AUTH, MODEL_FORCE_SIMPLE."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.runtime_switches) : contains(["FALLBACK_AUTH", "MODEL_FORCE_SIMPLE"], k)])
    error_message = "runtime_switches may only set FALLBACK_AUTH and MODEL_FORCE_SIMPLE; other settings go through review."
  }
}

variable "build_triggers" {
  description = "Per-function Cloud Build triggers for this environment (null: none, e.g. prod promoted from staging)."
  type = object({
    github_owner   = string
    github_repo    = string
    branch_regex   = string
    canary_percent = number
  })
  default = null
}
