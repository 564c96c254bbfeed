variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "region" {
  description = "Region (same as the Cloud Run services)."
  type        = string
}

variable "name" {
  description = "Instance name."
  type        = string
  default     = "cache"
}

variable "network_id" {
  description = "VPC the instance peers with (the Cloud Run egress network)."
  type        = string
}

variable "memory_size_gb" {
  description = "Instance size in GB (cache, rate limits, hot sessions, stream buffers; losing it loses no data)."
  type        = number
  default     = 1

  validation {
    condition     = var.memory_size_gb >= 1 && var.memory_size_gb <= 300
    error_message = "memory_size_gb must be between 1 and 300."
  }
}

variable "tier" {
  description = "STANDARD_HA (replica + failover) everywhere the users are; BASIC only for throwaway environments."
  type        = string
  default     = "STANDARD_HA"

  validation {
    condition     = contains(["STANDARD_HA", "BASIC"], var.tier)
    error_message = "tier must be STANDARD_HA or BASIC."
  }
}

variable "credentials_version" {
  description = "Bump to write the connection URL and CA into Secret Manager again (after an AUTH rotation or CA change)."
  type        = number
  default     = 1

  validation {
    condition     = var.credentials_version >= 1 && floor(var.credentials_version) == var.credentials_version
    error_message = "credentials_version must be a positive whole number."
  }
}
