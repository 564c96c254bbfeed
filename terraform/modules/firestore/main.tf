# The durable store (docs/architecture.md, Data): native mode, point-in-time recovery, protected from deletion.
resource "google_firestore_database" "main" {
  project                           = var.project_id
  name                              = "(default)"
  location_id                       = var.location_id
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "OPTIMISTIC"
  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = var.delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  # The provider default (ABANDON) would silently forget a database on destroy; make it explicit.
  deletion_policy = var.delete_protection ? "ABANDON" : "DELETE"
}

# TTL policies delete expired ephemeral documents (refresh tokens and their families). The field is the
# document store's reserved expiry, written as a Timestamp by the Firestore adapter (ports/store.py).
resource "google_firestore_field" "ttl" {
  for_each = var.ttl_fields

  project    = var.project_id
  database   = google_firestore_database.main.name
  collection = each.key
  field      = each.value.field

  ttl_config {}
  # An empty index_config drops the field's single-field indexes (cheaper writes, no hotspot on ever-growing
  # timestamps); a collection whose queries filter on the expiry keeps the inherited ones.
  dynamic "index_config" {
    for_each = each.value.queried ? [] : [true]
    content {}
  }
}

resource "google_firestore_index" "main" {
  for_each = var.indexes

  project     = var.project_id
  database    = google_firestore_database.main.name
  collection  = each.value.collection
  query_scope = each.value.query_scope

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value.field_path
      order      = fields.value.order
    }
  }
}
