# A thin root: the catalog (services.yaml, the same file the local runner reads) and this environment's
# traffic file (traffic.auto.tfvars.json, edited by the ops CLI) drive the whole stack.
locals {
  catalog = yamldecode(file("${path.module}/../../../services.yaml"))
}

module "stack" {
  source = "../../modules/stack"

  project_id            = var.project_id
  environment           = var.environment
  region                = var.region
  firestore_location    = var.region
  domains               = var.domains
  legacy_fqdn           = var.legacy_fqdn
  services              = local.catalog.services
  traffic               = var.traffic
  legacy_fallback       = var.legacy_fallback
  bootstrap             = var.bootstrap
  secret_versions       = var.secret_versions
  initial_secrets       = var.initial_secrets
  jwt_active_kid        = var.jwt_active_kid
  ale_primary_kid       = var.ale_primary_kid
  gemini_use_vertex     = var.gemini_use_vertex
  scaling               = var.scaling
  deletion_protection   = var.deletion_protection
  redis_topology        = var.redis_topology
  redis_cluster         = var.redis_cluster
  redis_tier            = var.redis_tier
  redis_memory_gb       = var.redis_memory_gb
  armor_preview         = var.armor_preview
  notification_channels = var.notification_channels
  existing_channel_ids  = var.existing_channel_ids
  runbook_url           = var.runbook_url
  breakglass_members    = var.breakglass_members
  runtime_switches      = var.runtime_switches
  build_triggers        = var.build_triggers
}
