# Background work (legacy-session migration batches, reports): a rate-limited queue whose tasks reach
# the private worker with a Google-signed OIDC token of a dedicated invoker account.
resource "google_service_account" "invoker" {
  project      = var.project_id
  account_id   = "tasks-invoker"
  display_name = "Cloud Tasks -> worker invoker"
}

resource "google_cloud_tasks_queue" "main" {
  project  = var.project_id
  location = var.region
  name     = var.name

  rate_limits {
    max_dispatches_per_second = var.max_dispatches_per_second
    max_concurrent_dispatches = var.max_concurrent_dispatches
  }

  retry_config {
    max_attempts       = var.max_attempts
    max_retry_duration = "3600s"
    min_backoff        = "5s"
    max_backoff        = "300s"
    max_doublings      = 5
  }

  http_target {
    http_method = "POST"
    uri_override {
      scheme = "HTTPS"
      host   = trimprefix(var.worker_uri, "https://")
    }
    # Queue-level OIDC: every task carries the invoker's token for this audience, whatever the producer sets.
    oidc_token {
      service_account_email = google_service_account.invoker.email
      audience              = var.worker_uri
    }
  }

  stackdriver_logging_config {
    sampling_ratio = 1
  }
}

resource "google_cloud_tasks_queue_iam_member" "enqueuer" {
  for_each = var.producers

  project  = var.project_id
  location = var.region
  name     = google_cloud_tasks_queue.main.name
  role     = "roles/cloudtasks.enqueuer"
  member   = each.value
}

# actAs on the invoker account only: producers may mint its OIDC token through Cloud Tasks, nothing else.
resource "google_service_account_iam_member" "producer_act_as" {
  for_each = var.producers

  service_account_id = google_service_account.invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = each.value
}
