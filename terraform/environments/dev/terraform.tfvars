project_id      = "workplace-roleplay-dev"
environment     = "dev"
domains         = ["dev.workplace-roleplay.example.jp"]
legacy_fqdn     = "legacy-dev.workplace-roleplay.example.jp"
jwt_active_kid  = "dev-2026-11"
ale_primary_kid = "dev-2026-11"
secret_versions = {
  "jwt-keys"                = "1"
  "ale-keys"                = "1"
  "csrf-secret"             = "1"
  "legacy-secret-key"       = "1"
  "gemini-api-key"          = "1"
  "gemini-api-key-fallback" = "1"
}
# Throwaway environment: cheaper Redis, destroyable services. One BASIC instance, not a cluster: dev's load fits one
# primary many times over and a cluster is six nodes (ADR 0019; switch here first when prod approaches the limits).
redis_topology      = "instance"
redis_tier          = "BASIC"
deletion_protection = false
armor_preview       = true
notification_channels = {
  team-email = {
    type         = "email"
    display_name = "Dev alerts"
    labels       = { email_address = "wr-dev-alerts@example.jp" }
  }
}
