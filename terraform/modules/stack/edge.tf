module "armor" {
  source              = "../armor"
  project_id          = var.project_id
  model_path_prefixes = distinct(flatten([for s in values(var.services) : s.streaming_prefixes]))
  preview             = var.armor_preview
  depends_on          = [google_project_service.main]
}

module "legacy" {
  source          = "../legacy_backend"
  project_id      = var.project_id
  fqdn            = var.legacy_fqdn
  security_policy = module.armor.id
  depends_on      = [google_project_service.main]
}

module "edge" {
  source             = "../edge"
  project_id         = var.project_id
  domains            = var.domains
  routes             = module.routing.routes
  url_tests          = module.routing.url_tests
  backends           = { for name, b in module.backend : name => b.backend_service_id }
  candidate_backends = { for name, b in module.candidate_backend : name => b.backend_service_id }
  legacy_backend     = module.legacy.backend_service_id
  canary_header      = module.routing.canary_header
  depends_on         = [google_project_service.main]
}

module "monitoring" {
  source     = "../monitoring"
  project_id = var.project_id
  host       = var.domains[0]
  services = {
    for name, s in var.services : name => {
      cloud_run_name     = s.cloud_run_name
      health_path        = "${s.api_prefix}/health"
      streaming_prefixes = s.streaming_prefixes
    }
  }
  notification_channels = var.notification_channels
  existing_channel_ids  = var.existing_channel_ids
  runbook_url           = var.runbook_url
  depends_on            = [google_project_service.main]
}
