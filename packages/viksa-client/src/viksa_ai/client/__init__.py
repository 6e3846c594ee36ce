"""Placeholder."""

X: int = 1
