"""``cove run --mock``: one module on a local engine fed from a fixture file."""
