"""One router module per platform service."""
