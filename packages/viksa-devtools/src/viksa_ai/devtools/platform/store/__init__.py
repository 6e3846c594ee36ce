"""The platform's storage: JSON documents in SQLite."""
