"""Identity: users, refresh tokens, field encryption and key rotation."""
