"""Observability: structured logs, Prometheus metrics, durable trajectories."""
