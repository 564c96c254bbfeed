# One state per environment (its own bucket in its own project); the GCS backend locks the state, which
# also serializes ops traffic changes with pipeline applies.
terraform {
  backend "gcs" {
    bucket = "workplace-roleplay-tfstate-dev"
    prefix = "environments/dev"
  }
}
