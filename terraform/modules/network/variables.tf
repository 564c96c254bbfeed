variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "region" {
  description = "Region of the Cloud Run services and Memorystore."
  type        = string
}

variable "name" {
  description = "VPC name."
  type        = string
  default     = "app"
}

variable "egress_cidr" {
  description = "Subnet range for Direct VPC egress (Cloud Run instances take addresses from it; /26 or larger)."
  type        = string
  default     = "10.10.0.0/24"

  validation {
    condition     = can(cidrhost(var.egress_cidr, 0)) && tonumber(split("/", var.egress_cidr)[1]) <= 26
    error_message = "egress_cidr must be an IPv4 CIDR of /26 or larger."
  }
}
