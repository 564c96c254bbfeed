"""The web edge: the app factory, middleware, error map, health and metrics endpoints."""
