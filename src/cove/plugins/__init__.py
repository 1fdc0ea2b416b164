"""Plugins shipped with cove: a manifest names one as ``entry = "cove.plugins.<name>:<Class>"``."""
