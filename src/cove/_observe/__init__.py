"""Observability: structured logs (metrics, health and trajectories build on them)."""
