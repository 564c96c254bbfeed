"""Scenario role-play as data: the catalog, the character roster, consent and simple-mode replies.

Pure domain code over the ports; the engine-based play (start, turn, hint, report, fork) builds on it.
"""
