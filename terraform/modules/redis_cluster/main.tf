# Memorystore for Redis Cluster (REDIS_MODE=cluster, ADR 0019): shards with a replica each, in-transit TLS,
# reached over Private Service Connect. The services get the discovery endpoint's URL and the cluster's CA
# from Secret Manager exactly as with the single instance (modules/redis), so the stack wires either alike.
resource "google_project_service" "psc" {
  project            = var.project_id
  service            = "networkconnectivity.googleapis.com"
  disable_on_destroy = false
}

# PSC endpoints of the cluster (one per node plus discovery) get addresses from this subnet.
resource "google_compute_subnetwork" "psc" {
  project                  = var.project_id
  region                   = var.region
  name                     = "${var.name}-psc"
  network                  = var.network_id
  ip_cidr_range            = var.psc_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_5_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# Lets Memorystore create the PSC endpoints in our VPC; the cluster cannot be created without it.
resource "google_network_connectivity_service_connection_policy" "redis" {
  project       = var.project_id
  location      = var.region
  name          = "${var.name}-redis-psc"
  service_class = "gcp-memorystore-redis"
  network       = var.network_id

  psc_config {
    subnetworks = [google_compute_subnetwork.psc.id]
    limit       = var.psc_connection_limit
  }

  depends_on = [google_project_service.psc]
}

resource "google_redis_cluster" "main" {
  project                     = var.project_id
  region                      = var.region
  name                        = var.name
  shard_count                 = var.shard_count
  replica_count               = var.replicas_per_shard
  node_type                   = var.node_type
  authorization_mode          = var.iam_auth ? "AUTH_MODE_IAM_AUTH" : "AUTH_MODE_DISABLED"
  transit_encryption_mode     = "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION"
  deletion_protection_enabled = var.deletion_protection

  psc_configs {
    network = var.network_id
  }

  zone_distribution_config {
    mode = "MULTI_ZONE"
  }

  # Every key has a TTL (docs/redis-keys.md); under memory pressure evict the soonest-expiring first.
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

  depends_on = [google_network_connectivity_service_connection_policy.redis]
}

# With IAM auth each service account connects with its own short-lived token (no shared secret).
resource "google_project_iam_member" "db_connection_user" {
  for_each = var.iam_auth ? var.client_members : {}
  project  = var.project_id
  role     = "roles/redis.dbConnectionUser"
  member   = each.value
}

locals {
  ca_file  = "/secrets/redis-ca/ca.pem"
  endpoint = google_redis_cluster.main.discovery_endpoints[0]
  # The discovery endpoint answers CLUSTER SLOTS; the client then talks to every shard over TLS with the
  # same CA. No password in the URL: IAM tokens (or none, inside the PSC-only network) authenticate.
  redis_url = format(
    "rediss://%s:%d/0?ssl_cert_reqs=required&ssl_ca_certs=%s&ssl_check_hostname=false",
    local.endpoint.address, local.endpoint.port, local.ca_file,
  )
  ca_bundle = join("\n", flatten([for ca in google_redis_cluster.main.managed_server_ca : [for c in ca.ca_certs : c.certificates]]))
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
  secret_data_wo         = local.ca_bundle
  secret_data_wo_version = var.credentials_version
}
