project_id      = "workplace-roleplay-prod"
environment     = "prod"
domains         = ["workplace-roleplay.example.jp"]
legacy_fqdn     = "legacy.workplace-roleplay.example.jp"
jwt_active_kid  = "prod-2026-11"
ale_primary_kid = "prod-2026-11"
secret_versions = {
  "jwt-keys"                = "1"
  "ale-keys"                = "1"
  "csrf-secret"             = "1"
  "legacy-secret-key"       = "1"
  "gemini-api-key"          = "1"
  "gemini-api-key-fallback" = "1"
}
# One STANDARD_HA primary (5 GB) carries today's peak with room to spare; move to "cluster" (Memorystore for Redis
# Cluster, redis_cluster = { shard_count = 3, replicas_per_shard = 1 }) when memory or connections pass ~60 % (ADR 0019).
redis_topology  = "instance"
redis_memory_gb = 5
# Concurrency from the measured capacity (ADR 0032): 60 admitted streams (ADMISSION_MAX_IN_FLIGHT) + 10 short
# requests for chat and scenario; watch sockets stay open for a whole run; migrate_session makes no model calls.
scaling = {
  chat            = { min_instances = 2, max_instances = 50, concurrency = 70 }
  scenario        = { min_instances = 2, max_instances = 50, concurrency = 70 }
  watch           = { min_instances = 1, max_instances = 30, concurrency = 60 }
  migrate_session = { min_instances = 1, max_instances = 20, concurrency = 80 }
}
breakglass_members = ["group:wr-oncall@example.jp"]
notification_channels = {
  oncall-email = {
    type         = "email"
    display_name = "On-call"
    labels       = { email_address = "wr-oncall@example.jp" }
  }
}
