# One Cloud Run v2 service. Ownership (ADR 0020): Terraform owns the shape and the traffic split; Cloud
# Build owns the image (it deploys revisions with --no-traffic). See the lifecycle block for what that means.
resource "google_cloud_run_v2_service" "main" {
  project             = var.project_id
  location            = var.region
  name                = var.name
  ingress             = var.ingress
  labels              = var.labels
  deletion_protection = var.deletion_protection
  # LB-fronted services authorize at the edge (Cloud Armor, app auth); workers keep the IAM check.
  invoker_iam_disabled = var.public
  # Only the load balancer (or internal callers) may reach the service, so the run.app URL is turned off
  # for public services; workers keep it because Cloud Tasks targets it.
  default_uri_disabled = var.public

  template {
    revision                         = var.bootstrap_revision
    service_account                  = google_service_account.runtime.email
    timeout                          = "${var.timeout_seconds}s"
    max_instance_request_concurrency = var.concurrency
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN2"
    # Session affinity pins clients to a revision and skews canary percentages, so it is off except where a
    # service asks for it as a hint (watch WebSockets; any instance can resume a run, docs/watch-protocol.md).
    session_affinity = var.session_affinity

    scaling {
      min_instance_count = var.min_instances
      max_instance_count = var.max_instances
    }

    vpc_access {
      # Direct VPC egress: private ranges (Memorystore) through the VPC, the rest (Gemini) direct.
      egress = "PRIVATE_RANGES_ONLY"
      network_interfaces {
        network    = var.network
        subnetwork = var.subnetwork
      }
    }

    containers {
      name  = "app"
      image = var.initial_image

      ports {
        name           = "http1"
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        # Request-based billing throttles the CPU to almost nothing once the response ends, which starves
        # in-process work after it (ADR 0024); set explicitly because declaring `resources` changes the default.
        cpu_idle          = !var.cpu_always_allocated
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = var.env
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = var.secret_env
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = env.value.secret
              version = env.value.version
            }
          }
        }
      }

      dynamic "volume_mounts" {
        for_each = var.secret_files
        content {
          name       = "secret-${substr(sha1(volume_mounts.key), 0, 8)}"
          mount_path = volume_mounts.key
        }
      }

      # Direct VPC egress can take a while at instance start: /ready checks the store and cache (its first
      # call builds the Firestore client), and the generous threshold keeps the instance out of rotation
      # until the path works. Probed every 2 s, not 10: a service is ready about 1 s after start, and a
      # 10 s period made every cold start wait for the second probe (ADR 0032). A probe that times out
      # does not stop the check it started; the next one finds the client built.
      startup_probe {
        initial_delay_seconds = 0
        timeout_seconds       = 1 # Cloud Run: must be smaller than period_seconds
        period_seconds        = 2
        failure_threshold     = 120 # 240 s: Cloud Run's maximum startup probe window
        http_get {
          path = var.ready_path
          port = 8080
        }
      }

      # Cheap liveness: /health makes no dependency calls, so a Redis blip never restarts instances.
      liveness_probe {
        timeout_seconds   = 3
        period_seconds    = 30
        failure_threshold = 3
        http_get {
          path = var.health_path
          port = 8080
        }
      }
    }

    dynamic "containers" {
      for_each = var.prometheus_sidecar_image == null ? [] : [var.prometheus_sidecar_image]
      content {
        name       = "prometheus"
        image      = containers.value
        depends_on = ["app"]
        resources {
          limits = {
            cpu    = "1"
            memory = "256Mi"
          }
          cpu_idle = true
        }
      }
    }

    dynamic "volumes" {
      for_each = var.secret_files
      content {
        name = "secret-${substr(sha1(volumes.key), 0, 8)}"
        secret {
          secret = volumes.value.secret
          items {
            version = volumes.value.version
            path    = volumes.value.path
          }
        }
      }
    }
  }

  dynamic "traffic" {
    for_each = var.traffic
    content {
      type     = traffic.value.revision == null ? "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST" : "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"
      revision = traffic.value.revision
      percent  = traffic.value.percent
      tag      = traffic.value.tag
    }
  }

  lifecycle {
    # Cloud Build deploys images and gcloud stamps client fields and revision labels; Terraform must not
    # revert them. `template[0].revision` is deliberately NOT ignored: ignoring it makes every later
    # Terraform template change re-send the last deployed revision name and fail with 409 (provider
    # #14569). Instead Terraform leaves the name unset after bootstrap, so its own template changes
    # create auto-named revisions that receive no traffic until the traffic file names them (ADR 0020).
    ignore_changes = [
      client,
      client_version,
      template[0].containers[0].image,
      template[0].labels,
      template[0].annotations,
    ]
  }

  # The runtime account must be able to read its secrets before the first revision starts.
  depends_on = [google_secret_manager_secret_iam_member.runtime, google_project_iam_member.runtime]
}
