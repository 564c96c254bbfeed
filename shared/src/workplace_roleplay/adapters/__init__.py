"""Adapters: the only modules that talk to SDKs, databases and remote services."""
