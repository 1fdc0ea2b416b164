"""The control plane: HTTP API, metrics listener, health and console (outer adapters)."""
