variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "region" {
  description = "Region (same as the Cloud Run services)."
  type        = string
}

variable "name" {
  description = "Cluster name (also prefixes the PSC subnet and the service connection policy)."
  type        = string
  default     = "cache"
}

variable "network_id" {
  description = "VPC the PSC endpoints are created in (the Cloud Run egress network)."
  type        = string
}

variable "psc_cidr" {
  description = "Range of the PSC endpoint subnet (two addresses per node plus discovery; a /28 holds a 6-node cluster)."
  type        = string
  default     = "10.8.1.0/28"

  validation {
    condition     = can(cidrhost(var.psc_cidr, 0)) && tonumber(split("/", var.psc_cidr)[1]) <= 28
    error_message = "psc_cidr must be an IPv4 CIDR of /28 or larger."
  }
}

variable "psc_connection_limit" {
  description = "Most PSC connections the service connection policy allows in the subnet."
  type        = number
  default     = 5
}

variable "shard_count" {
  description = "Shards (each one primary); scale out when memory, connections or ops per second outgrow them."
  type        = number
  default     = 3

  validation {
    condition     = var.shard_count >= 3 && var.shard_count <= 250 && floor(var.shard_count) == var.shard_count
    error_message = "shard_count must be a whole number between 3 and 250."
  }
}

variable "replicas_per_shard" {
  description = "Replicas per shard: at least 1 where users are, so a shard fails over instead of losing its slots."
  type        = number
  default     = 1

  validation {
    condition     = var.replicas_per_shard >= 1 && var.replicas_per_shard <= 2 && floor(var.replicas_per_shard) == var.replicas_per_shard
    error_message = "replicas_per_shard must be 1 or 2 (0 leaves a shard without failover)."
  }
}

variable "node_type" {
  description = "Node type of every shard."
  type        = string
  default     = "REDIS_SHARED_CORE_NANO"

  validation {
    condition     = contains(["REDIS_SHARED_CORE_NANO", "REDIS_STANDARD_SMALL", "REDIS_HIGHMEM_MEDIUM", "REDIS_HIGHMEM_XLARGE"], var.node_type)
    error_message = "node_type must be a Memorystore for Redis Cluster node type."
  }
}

variable "iam_auth" {
  description = "IAM authentication (each client account needs roles/redis.dbConnectionUser); false: PSC network only."
  type        = bool
  default     = true
}

variable "client_members" {
  description = "IAM members (the services' accounts) allowed to connect when iam_auth is on, by a plan-time key."
  type        = map(string)
  default     = {}
}

variable "deletion_protection" {
  description = "Refuse to delete the cluster."
  type        = bool
  default     = true
}

variable "credentials_version" {
  description = "Bump to write the connection URL and CA into Secret Manager again (after a CA rotation)."
  type        = number
  default     = 1

  validation {
    condition     = var.credentials_version >= 1 && floor(var.credentials_version) == var.credentials_version
    error_message = "credentials_version must be a positive whole number."
  }
}
