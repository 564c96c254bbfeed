variable "project_id" {
  description = "GCP project that hosts the service."
  type        = string
}

variable "region" {
  description = "Cloud Run region (must equal the serverless NEG's and the Redis instance's region)."
  type        = string
}

variable "name" {
  description = "Cloud Run service name (the catalog's cloud_run_name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$", var.name))
    error_message = "name must be a valid Cloud Run service name."
  }
}

variable "initial_image" {
  description = "Image of the first revision only; afterwards Cloud Build owns the image (ignored by Terraform)."
  type        = string
  default     = "us-docker.pkg.dev/cloudrun/container/hello"
}

variable "bootstrap_revision" {
  description = "Name the first revision gets (the traffic file's stable_revision) so pinned traffic has a target; null after bootstrap."
  type        = string
  default     = null

  validation {
    condition     = var.bootstrap_revision == null || startswith(coalesce(var.bootstrap_revision, "-"), "${var.name}-")
    error_message = "bootstrap_revision must start with the service name and '-'."
  }
}

variable "ingress" {
  description = "Who may reach the service: the load balancer (user-facing) or internal callers only (workers)."
  type        = string
  default     = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"

  validation {
    condition     = contains(["INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", "INGRESS_TRAFFIC_INTERNAL_ONLY"], var.ingress)
    error_message = "ingress must be INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER or INGRESS_TRAFFIC_INTERNAL_ONLY (never ALL: run.app would bypass Cloud Armor)."
  }
}

variable "public" {
  description = "True for LB-fronted user-facing services: anyone reaching the LB may invoke (invoker IAM check disabled)."
  type        = bool
  default     = true
}

variable "invokers" {
  description = "IAM members granted roles/run.invoker, keyed by a static name so for_each is known at plan time (workers: only the Cloud Tasks invoker)."
  type        = map(string)
  default     = {}

  validation {
    condition     = !contains(values(var.invokers), "allUsers") && !contains(values(var.invokers), "allAuthenticatedUsers")
    error_message = "invokers must not contain allUsers or allAuthenticatedUsers."
  }
}

variable "env" {
  description = "Plain environment variables of the container (settings that are not secrets)."
  type        = map(string)
  default     = {}
}

variable "secret_env" {
  description = "Secret environment variables: name => Secret Manager secret id and a pinned numeric version."
  type = map(object({
    secret  = string
    version = string
  }))
  default = {}

  validation {
    condition     = alltrue([for s in values(var.secret_env) : can(regex("^[0-9]+$", s.version))])
    error_message = "Secret versions must be pinned numbers, not \"latest\" (latest resolves per instance start)."
  }
}

variable "secret_files" {
  description = "Secrets mounted as files: mount directory => Secret Manager secret id, pinned version and file name."
  type = map(object({
    secret  = string
    version = string
    path    = string
  }))
  default = {}

  validation {
    condition     = alltrue([for s in values(var.secret_files) : can(regex("^[0-9]+$", s.version))])
    error_message = "Secret file versions must be pinned numbers."
  }
}

variable "project_roles" {
  description = "Project-level roles for the runtime service account (least privilege, e.g. roles/datastore.user)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.project_roles : !contains(["roles/owner", "roles/editor"], r)])
    error_message = "Runtime service accounts never get roles/owner or roles/editor."
  }
}

variable "cpu_always_allocated" {
  description = "Keep the CPU allocated between requests (instance-based billing). Needed when the service works after its response in-process (detached stream producers, summaries, memory extraction): with request-based billing Cloud Run throttles that work to almost nothing (ADR 0024)."
  type        = bool
  default     = false
  nullable    = false
}

variable "cpu" {
  description = "CPU limit per instance."
  type        = string
  default     = "1"

  validation {
    condition     = contains(["1", "2", "4", "8"], var.cpu)
    error_message = "cpu must be 1, 2, 4 or 8."
  }
}

variable "memory" {
  description = "Memory limit per instance."
  type        = string
  default     = "512Mi"

  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi)$", var.memory))
    error_message = "memory must look like 512Mi or 1Gi."
  }
}

variable "min_instances" {
  description = "Minimum instances of the serving revision (>= 1 in prod for latency-sensitive services)."
  type        = number
  default     = 0

  validation {
    condition     = var.min_instances >= 0 && var.min_instances <= 100
    error_message = "min_instances must be between 0 and 100."
  }
}

variable "max_instances" {
  description = "Instance cap, sized against Redis connection limits and the Gemini quota."
  type        = number
  default     = 20

  validation {
    condition     = var.max_instances >= 1 && var.max_instances <= 1000
    error_message = "max_instances must be between 1 and 1000."
  }
}

variable "concurrency" {
  description = "Requests per instance (Cloud Run max_instance_request_concurrency): the process's admission limit of streamed turns plus room for short requests (ADR 0027, 0032)."
  type        = number
  default     = 80

  validation {
    condition     = var.concurrency >= 1 && var.concurrency <= 1000
    error_message = "concurrency must be between 1 and 1000."
  }
}

variable "timeout_seconds" {
  description = "Request timeout; it also caps an SSE stream, so streaming services use the maximum."
  type        = number
  default     = 300

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 3600
    error_message = "timeout_seconds must be between 1 and 3600."
  }
}

variable "session_affinity" {
  description = "Cloud Run session affinity (a hint only: the watch service keeps a run's state in the store and Redis)."
  type        = bool
  default     = false
}

variable "health_path" {
  description = "Liveness probe path (no dependency calls)."
  type        = string
}

variable "ready_path" {
  description = "Startup probe path (checks store and cache; tolerates the Direct VPC egress start-up delay)."
  type        = string
}

variable "network" {
  description = "VPC network for Direct VPC egress (reaches Memorystore)."
  type        = string
}

variable "subnetwork" {
  description = "Subnetwork for Direct VPC egress, in the service's region."
  type        = string
}

variable "traffic" {
  description = "Traffic targets from the routing module; revision null means the latest ready revision."
  type = list(object({
    revision = optional(string)
    percent  = number
    tag      = optional(string)
  }))
  default = [{ percent = 100 }]

  validation {
    condition     = sum([for t in var.traffic : t.percent]) == 100
    error_message = "Traffic percentages must sum to 100."
  }
}

variable "prometheus_sidecar_image" {
  description = "Managed Service for Prometheus sidecar that scrapes /metrics (null: no sidecar)."
  type        = string
  default     = "us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.2.0"
}

variable "deletion_protection" {
  description = "Refuse `terraform destroy` of the service (true outside throwaway environments)."
  type        = bool
  default     = true
}

variable "labels" {
  description = "Labels on the service."
  type        = map(string)
  default     = {}
}
