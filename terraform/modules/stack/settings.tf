# What every service is configured with. Keys are the settings classes' env var names; tests/infra checks
# that each service's required production settings are all here and that secrets never travel as plain env.
locals {
  plain_env = {
    ENV                   = var.environment
    STORE_BACKEND         = "firestore"
    GOOGLE_CLOUD_PROJECT  = var.project_id
    FIRESTORE_DATABASE    = module.firestore.name
    LOG_JSON              = "true"
    JWT_ACTIVE_KID        = var.jwt_active_kid
    ALE_PRIMARY_KID       = var.ale_primary_kid
    GEMINI_USE_VERTEX     = tostring(var.gemini_use_vertex)
    GOOGLE_CLOUD_LOCATION = var.region
  }

  # Secret Manager containers whose versions are added out of band (never through Terraform state).
  secret_containers = {
    "jwt-keys"                = "JSON {kid: key} of access-token signing/verification keys (JWT_KEYS)."
    "ale-keys"                = "JSON {kid: base64 key} of field-encryption keys (ALE_KEYS)."
    "csrf-secret"             = "HMAC key of CSRF tokens (CSRF_SECRET)."
    "legacy-secret-key"       = "The legacy Flask SECRET_KEY: verifies legacy sessions (LEGACY_SECRET_KEY)."
    "gemini-api-key"          = "Gemini Developer API key when Vertex AI is not used (GEMINI_API_KEY)."
    "gemini-api-key-fallback" = "Standby Gemini key, for a revoked primary only (GEMINI_API_KEY_FALLBACK)."
  }

  # Setting name => secret container.
  secret_settings = merge(
    {
      JWT_KEYS          = "jwt-keys"
      ALE_KEYS          = "ale-keys"
      CSRF_SECRET       = "csrf-secret"
      LEGACY_SECRET_KEY = "legacy-secret-key"
    },
    var.gemini_use_vertex ? {} : {
      GEMINI_API_KEY          = "gemini-api-key"
      GEMINI_API_KEY_FALLBACK = "gemini-api-key-fallback"
    },
  )

  secret_env = merge(
    {
      for setting, secret in local.secret_settings : setting => {
        secret  = module.secrets.ids[secret]
        version = var.secret_versions[secret]
      }
    },
    { REDIS_URL = module.redis.url_secret },
  )

  # The Redis CA file named in REDIS_URL (ssl_ca_certs) is mounted from its secret.
  secret_files = {
    (module.redis.ca_secret.dir) = {
      secret  = module.redis.ca_secret.secret
      version = module.redis.ca_secret.version
      path    = module.redis.ca_secret.path
    }
  }

  default_scaling = { min_instances = var.environment == "prod" ? 1 : 0, max_instances = 20, concurrency = 80 }
}
