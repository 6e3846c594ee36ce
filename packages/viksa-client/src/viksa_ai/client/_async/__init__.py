"""The client and its resources, written once; ``_sync`` is generated from this package."""
