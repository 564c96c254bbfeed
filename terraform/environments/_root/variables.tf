variable "project_id" {
  description = "GCP project of this environment."
  type        = string
}

variable "environment" {
  description = "Environment name (dev, staging, prod)."
  type        = string
}

variable "region" {
  description = "Region of the regional resources."
  type        = string
  default     = "asia-northeast1"
}

variable "domains" {
  description = "Site host names (legacy host first)."
  type        = list(string)
}

variable "legacy_fqdn" {
  description = "Origin host of the legacy Flask app."
  type        = string
}

variable "traffic" {
  description = "Per-service split; set in traffic.auto.tfvars.json by the ops CLI."
  type = map(object({
    stable_revision    = string
    candidate_revision = optional(string)
    candidate_percent  = number
    legacy_percent     = number
  }))
}

variable "legacy_fallback" {
  description = "Whole site to legacy; set in traffic.auto.tfvars.json by `ops legacy on|off`."
  type        = bool
}

variable "bootstrap" {
  description = "True only for the environment's very first apply (names first revisions after stable_revision)."
  type        = bool
  default     = false
}

variable "initial_secrets" {
  description = "Bootstrap only (with bootstrap = true): initial material per secret id, e.g. from TF_VAR_initial_secrets. Never stored in state."
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "secret_versions" {
  description = "Pinned version per secret container (numbers only)."
  type        = map(string)
}

variable "jwt_active_kid" {
  description = "Signing key id of access tokens."
  type        = string
}

variable "ale_primary_kid" {
  description = "Encrypting key id of application-level encryption."
  type        = string
}

variable "gemini_use_vertex" {
  description = "Gemini through Vertex AI (true) or an API key secret (false)."
  type        = bool
  default     = true
}

variable "scaling" {
  description = "Per-service min/max instances and concurrency."
  type = map(object({
    min_instances = number
    max_instances = number
    concurrency   = number
  }))
  default = {}
}

variable "deletion_protection" {
  description = "Protect services and Firestore from destroy."
  type        = bool
  default     = true
}

variable "redis_topology" {
  description = "instance (Memorystore STANDARD_HA) or cluster (Memorystore for Redis Cluster); see ADR 0019."
  type        = string
  default     = "instance"
}

variable "redis_cluster" {
  description = "Cluster shape when redis_topology = cluster (shard_count, replicas_per_shard, node_type, iam_auth)."
  type = object({
    shard_count        = optional(number, 3)
    replicas_per_shard = optional(number, 1)
    node_type          = optional(string, "REDIS_SHARED_CORE_NANO")
    iam_auth           = optional(bool, true)
  })
  default = {}
}

variable "redis_tier" {
  description = "Memorystore tier."
  type        = string
  default     = "STANDARD_HA"
}

variable "redis_memory_gb" {
  description = "Memorystore size in GB."
  type        = number
  default     = 1
}

variable "armor_preview" {
  description = "Cloud Armor rate rules in preview (log only)."
  type        = bool
  default     = false
}

variable "notification_channels" {
  description = "Alert channels to create."
  type = map(object({
    type         = string
    display_name = string
    labels       = map(string)
  }))
  default = {}
}

variable "existing_channel_ids" {
  description = "Existing alert channel ids."
  type        = list(string)
  default     = []
}

variable "runbook_url" {
  description = "Base URL of the runbook."
  type        = string
  default     = "https://github.com/workplace-roleplay/workplace-roleplay/blob/main/docs/runbook.md"
}

variable "breakglass_members" {
  description = "Who may impersonate the break-glass account."
  type        = list(string)
  default     = []
}

variable "runtime_switches" {
  description = "Emergency switches; set in switches.auto.tfvars.json by `ops switch` (absent file: none)."
  type        = map(string)
  default     = {}
}

variable "build_triggers" {
  description = "Per-function Cloud Build triggers (null: none)."
  type = object({
    github_owner   = string
    github_repo    = string
    branch_regex   = string
    canary_percent = number
  })
  default = null
}
