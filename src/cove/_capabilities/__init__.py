"""Capability layer: grants, limits and one backend per host interface."""
