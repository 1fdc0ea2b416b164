"""Durable storage: journal, cursors, module state and outbox behind one interface."""
