# Settings of every service come from the provider-free service_config module (policy-tested offline);
# here its secret ids become pinned secret_key_refs.
module "config" {
  source = "../service_config"

  environment        = var.environment
  project_id         = var.project_id
  region             = var.region
  firestore_database = "(default)"
  jwt_active_kid     = var.jwt_active_kid
  ale_primary_kid    = var.ale_primary_kid
  gemini_use_vertex  = var.gemini_use_vertex
  runtime_switches   = var.runtime_switches
  redis_mode         = var.redis_topology == "cluster" ? "cluster" : "standalone"
  redis_iam_auth     = var.redis_topology == "cluster" && var.redis_cluster.iam_auth
}

locals {
  service_env = module.config.env

  secret_env = {
    for setting, id in module.config.secret_settings : setting => (
      id == local.redis.url_secret.secret ? local.redis.url_secret : {
        secret  = module.secrets.ids[id]
        version = var.secret_versions[id]
      }
    )
  }

  # The Redis CA file named in REDIS_URL (ssl_ca_certs) is mounted from its secret.
  secret_files = {
    (local.redis.ca_secret.dir) = {
      secret  = local.redis.ca_secret.secret
      version = local.redis.ca_secret.version
      path    = local.redis.ca_secret.path
    }
  }

  # Secrets the services read whose values come from outside Terraform (redis-url/-ca are written by the redis module).
  bootstrap_secret_ids = toset([for id in values(module.config.secret_settings) : id if contains(keys(module.config.external_secrets), id)])

  # 70: the admission limit of 60 streamed turns plus room for short requests (ADR 0032).
  default_scaling = { min_instances = var.environment == "prod" ? 1 : 0, max_instances = 20, concurrency = 70 }
}
