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
  description = "Collection group => timestamp field whose value is the document's expiry (ephemeral data)."
  type        = map(string)
  default = {
    refresh_tokens    = "expires_at"
    legacy_migrations = "expires_at"
  }
}

variable "indexes" {
  description = "Composite indexes the queries need: name => collection group, query scope and ordered fields."
  type = map(object({
    collection  = string
    query_scope = optional(string, "COLLECTION")
    fields = list(object({
      field_path = string
      order      = string
    }))
  }))
  default = {
    conversations-by-mode = {
      collection = "conversations"
      fields = [
        { field_path = "mode", order = "ASCENDING" },
        { field_path = "updated_at", order = "DESCENDING" },
      ]
    }
    memories-by-counterpart = {
      collection = "memories"
      fields = [
        { field_path = "counterpart", order = "ASCENDING" },
        { field_path = "salience", order = "DESCENDING" },
      ]
    }
    refresh-token-family = {
      collection = "refresh_tokens"
      fields = [
        { field_path = "family", order = "ASCENDING" },
        { field_path = "revoked", order = "ASCENDING" },
      ]
    }
  }

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
