variable "project_id" {
  description = "GCP project."
  type        = string
}

variable "location_id" {
  description = "Firestore location (e.g. asia-northeast1); cannot change after creation."
  type        = string
}

variable "delete_protection" {
  description = "Refuse deleting the database (on for staging and prod)."
  type        = bool
  default     = true
}

variable "ttl_fields" {
  description = "Collection group => Timestamp field whose value is the document's expiry. Firestore only expires documents whose field holds a Timestamp: the document-store port writes JSON values only today, so these take effect once the Firestore adapter writes `ttl_at`; until then RefreshTokens.purge_expired deletes expired tokens."
  type        = map(string)
  default = {
    refresh_tokens    = "ttl_at"
    refresh_families  = "ttl_at"
    legacy_migrations = "ttl_at"
  }

  validation {
    condition     = alltrue([for f in values(var.ttl_fields) : can(regex("^[a-z_][a-z0-9_]*$", f))])
    error_message = "TTL fields must be plain top-level field names."
  }
}

variable "indexes" {
  description = "Composite indexes the queries need (none today): name => collection group, query scope and ordered fields."
  type = map(object({
    collection  = string
    query_scope = optional(string, "COLLECTION")
    fields = list(object({
      field_path = string
      order      = string
    }))
  }))
  # Today's queries filter or order on one field at a time (conversations by updated_at, messages by created_at,
  # memories by created_at, refresh tokens by expires_at), which Firestore's automatic single-field indexes serve.
  default = {}

  validation {
    condition = alltrue(flatten([
      for ix in values(var.indexes) : concat(
        [length(ix.fields) >= 2, contains(["COLLECTION", "COLLECTION_GROUP"], ix.query_scope)],
        [for f in ix.fields : contains(["ASCENDING", "DESCENDING"], f.order)],
      )
    ]))
    error_message = "Composite indexes need >= 2 fields ordered ASCENDING/DESCENDING and a valid query scope."
  }
}
