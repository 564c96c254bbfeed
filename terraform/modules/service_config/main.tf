# What every service is configured with, as data. Keys are the settings classes' env var names; the
# policy tests evaluate this module and check each service's required production settings are all here
# and that secrets never travel as plain env. Provider-free so it evaluates offline.
locals {
  plain_env = merge(
    {
      ENV                   = var.environment
      STORE_BACKEND         = "firestore"
      GOOGLE_CLOUD_PROJECT  = var.project_id
      FIRESTORE_DATABASE    = var.firestore_database
      LOG_JSON              = "true"
      JWT_ACTIVE_KID        = var.jwt_active_kid
      ALE_PRIMARY_KID       = var.ale_primary_kid
      GEMINI_USE_VERTEX     = tostring(var.gemini_use_vertex)
      GOOGLE_CLOUD_LOCATION = var.region
      REDIS_MODE            = var.redis_mode
      REDIS_IAM_AUTH        = tostring(var.redis_iam_auth)
      # Traces go to Cloud Trace (the runtime accounts hold roles/cloudtrace.agent; ADR 0028).
      TRACE_EXPORTER     = "cloud_trace"
      TRACE_SAMPLE_RATIO = tostring(var.trace_sample_ratio)
    },
    var.runtime_switches,
  )

  # Containers whose versions are added out of band (values never pass through Terraform state).
  external_secrets = {
    "jwt-keys"                = "JSON {kid: key} of access-token signing/verification keys (JWT_KEYS)."
    "ale-keys"                = "JSON {kid: base64 key} of field-encryption keys (ALE_KEYS)."
    "csrf-secret"             = "HMAC key of CSRF tokens (CSRF_SECRET)."
    "legacy-secret-key"       = "The legacy Flask SECRET_KEY: verifies legacy sessions (LEGACY_SECRET_KEY)."
    "gemini-api-key"          = "Gemini Developer API key when Vertex AI is not used (GEMINI_API_KEY)."
    "gemini-api-key-fallback" = "Standby Gemini key, for a revoked primary only (GEMINI_API_KEY_FALLBACK)."
  }

  # Written by the redis module from the instance's AUTH string, host, port and CA.
  terraform_secrets = ["redis-url", "redis-ca"]

  # Setting name => secret id.
  secret_settings = merge(
    {
      JWT_KEYS          = "jwt-keys"
      ALE_KEYS          = "ale-keys"
      CSRF_SECRET       = "csrf-secret"
      LEGACY_SECRET_KEY = "legacy-secret-key"
      REDIS_URL         = "redis-url"
    },
    var.gemini_use_vertex ? {} : {
      GEMINI_API_KEY          = "gemini-api-key"
      GEMINI_API_KEY_FALLBACK = "gemini-api-key-fallback"
    },
  )
}
