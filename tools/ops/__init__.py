"""Ops commands (traffic splits, legacy fallback, runtime switches, cache) and the local nginx stack."""
