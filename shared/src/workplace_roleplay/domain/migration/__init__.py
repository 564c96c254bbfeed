"""Legacy-session migration: the pure transform of a legacy Flask session into v2 data, and the service
that applies it once per session (docs/migration.md, ADR 0016)."""
