"""Unit tests for cove._engine."""
