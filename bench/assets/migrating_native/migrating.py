"""Bench plugin: its migration rewrites every ``item:`` value as ``{"n": value}`` (one
list-keys, one get-many; the engine writes the run of ``SetState`` as one set-many)."""

from cove.plugin import Plugin, SetState


class Migrating(Plugin):
    def migrate(self, from_version, ctx):
        keys = ctx.state.keys("item:")
        values = ctx.state.get_many(keys)
        return [SetState(key, {"n": value}) for key, value in zip(keys, values, strict=True)]
