output "name" {
  description = "Database id (FIRESTORE_DATABASE setting)."
  value       = google_firestore_database.main.name
}
