# Memorystore for Redis with AUTH and in-transit TLS; the services get its URL and CA from Secret Manager.
resource "google_redis_instance" "main" {
  project                 = var.project_id
  region                  = var.region
  name                    = var.name
  tier                    = var.tier
  memory_size_gb          = var.memory_size_gb
  redis_version           = "REDIS_7_2"
  authorized_network      = var.network_id
  connect_mode            = "DIRECT_PEERING"
  auth_enabled            = true
  transit_encryption_mode = "SERVER_AUTHENTICATION"
  # Every key has a TTL (docs/architecture.md, Data); under memory pressure evict the soonest-expiring first.
  redis_configs = {
    maxmemory-policy = "volatile-ttl"
  }

  maintenance_policy {
    weekly_maintenance_window {
      day = "TUESDAY"
      start_time {
        hours   = 18 # 03:00 JST, the quietest hour for Japanese office workers
        minutes = 0
      }
    }
  }
}

locals {
  ca_file = "/secrets/redis-ca/ca.pem"
  # The CA is the instance's own, so trusting it authenticates the server; Memorystore certificates
  # name no host, hence no hostname check. redis-py passes unknown URL options to the TLS connection.
  redis_url = format(
    "rediss://:%s@%s:%d/0?ssl_cert_reqs=required&ssl_ca_certs=%s&ssl_check_hostname=false",
    google_redis_instance.main.auth_string, google_redis_instance.main.host, google_redis_instance.main.port, local.ca_file,
  )
}

resource "google_secret_manager_secret" "url" {
  project   = var.project_id
  secret_id = "redis-url"
  replication {
    auto {}
  }
}

# Write-only (Terraform >= 1.11): the value reaches Secret Manager but is not stored in the state.
resource "google_secret_manager_secret_version" "url" {
  secret                 = google_secret_manager_secret.url.id
  secret_data_wo         = local.redis_url
  secret_data_wo_version = var.credentials_version
}

resource "google_secret_manager_secret" "ca" {
  project   = var.project_id
  secret_id = "redis-ca"
  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "ca" {
  secret                 = google_secret_manager_secret.ca.id
  secret_data_wo         = join("\n", [for c in google_redis_instance.main.server_ca_certs : c.cert])
  secret_data_wo_version = var.credentials_version
}
