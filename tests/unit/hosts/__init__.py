"""Unit tests for cove._hosts."""
