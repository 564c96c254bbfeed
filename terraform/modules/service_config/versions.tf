# Pure computation: no provider, so `terraform init` and `terraform test` run offline (tests/infra uses it).
terraform {
  required_version = ">= 1.11"
}
