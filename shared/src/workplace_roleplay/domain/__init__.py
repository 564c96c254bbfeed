"""The domain: pure Python over the ports (conversation engine, coaching, memory, identity rules)."""
