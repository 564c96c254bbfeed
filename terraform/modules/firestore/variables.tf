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
  description = "Collection group => the Timestamp field holding each document's expiry (the store's reserved `expires_at`, see shared/src/workplace_roleplay/ports/store.py) and whether queries filter on it (then its single-field indexes stay)."
  type = map(object({
    field   = string
    queried = bool
  }))
  default = {
    refresh_tokens   = { field = "expires_at", queried = true } # RefreshTokens.purge_expired filters on it
    refresh_families = { field = "expires_at", queried = false }
  }

  validation {
    condition     = alltrue([for f in values(var.ttl_fields) : can(regex("^[a-z_][a-z0-9_]*$", f.field))])
    error_message = "TTL fields must be plain top-level field names."
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
  # Every mode shares users/{uid}/conversations, so a service lists its own mode's conversations newest first
  # (ConversationRepository.list_recent(mode=...)): equality on mode + order on updated_at needs a composite index.
  # The other queries (messages by created_at, memories by created_at, refresh tokens by expires_at) use one field
  # each, which Firestore's automatic single-field indexes serve.
  default = {
    conversations_by_mode = {
      collection = "conversations"
      fields = [
        { field_path = "mode", order = "ASCENDING" },
        { field_path = "updated_at", order = "DESCENDING" },
      ]
    }
    # A fork family (ConversationRepository.list_recent(mode=..., root_id=...), docs/architecture.md, Branching).
    conversations_by_family = {
      collection = "conversations"
      fields = [
        { field_path = "mode", order = "ASCENDING" },
        { field_path = "root_id", order = "ASCENDING" },
        { field_path = "updated_at", order = "DESCENDING" },
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
