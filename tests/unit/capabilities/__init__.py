"""Unit tests for cove._capabilities."""
