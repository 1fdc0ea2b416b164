"""Unit tests for cove._build."""
