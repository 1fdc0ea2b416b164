"""Shared test helpers: module and engine fixtures built from real parts."""
