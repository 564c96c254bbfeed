project_id      = "workplace-roleplay-staging"
environment     = "staging"
domains         = ["staging.workplace-roleplay.example.jp"]
legacy_fqdn     = "legacy-staging.workplace-roleplay.example.jp"
jwt_active_kid  = "staging-2026-11"
ale_primary_kid = "staging-2026-11"
secret_versions = {
  "jwt-keys"                = "1"
  "ale-keys"                = "1"
  "csrf-secret"             = "1"
  "legacy-secret-key"       = "1"
  "gemini-api-key"          = "1"
  "gemini-api-key-fallback" = "1"
}
# STANDARD_HA instance like prod (ADR 0019): staging mirrors prod's topology so a switch to "cluster" is rehearsed here.
redis_topology = "instance"
notification_channels = {
  team-email = {
    type         = "email"
    display_name = "Staging alerts"
    labels       = { email_address = "wr-staging-alerts@example.jp" }
  }
}
build_triggers = {
  github_owner   = "workplace-roleplay"
  github_repo    = "workplace-roleplay"
  branch_regex   = "^main$"
  canary_percent = 10
}
