"""Unit tests for cove._store."""
