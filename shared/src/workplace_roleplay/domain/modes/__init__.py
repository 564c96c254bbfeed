"""One module per mode; modes use the conversation engine, never each other."""
