"""Test plugins for state migration. ``Migrating`` (``[migrate] enabled``) migrates as its
config ``migration`` says: ``rename`` moves ``item:K`` to ``entry:K`` as ``{"n": value}``,
``reformat`` rewrites ``item:K`` in place, ``fail`` raises after writing. ``Plain`` has no migration. Both record their config ``tag``
for each event they handle, and write ``item:K`` for a ``probe.put`` event's key."""

import json

from cove.plugin import DeleteState, Plugin, SetState


class Plain(Plugin):
    def handle_event(self, event, ctx):
        actions = [SetState(f"by:{event.id}", ctx.config.get("tag"))]
        if event.payload.name == "probe.put":
            body = json.loads(event.payload.payload)
            actions.append(SetState(f"item:{body['key']}", body["n"]))
        return actions


class Migrating(Plain):
    def migrate(self, from_version, ctx):
        # A generator: each action is applied as it is yielded, so a failure after some of
        # them leaves writes in the engine's overlay, for the engine to roll back.
        if ctx.config.get("migration") == "reformat":  # in place: SetState only
            keys = ctx.state.keys("item:")
            for key, value in zip(keys, ctx.state.get_many(keys), strict=True):
                yield SetState(key, {"n": value})
            return
        for key in ctx.state.keys("item:"):
            value = ctx.state.get(key)
            yield SetState("entry:" + key[5:], {"n": value, "from": from_version})
            yield DeleteState(key)
        if ctx.config.get("migration") == "fail":
            raise RuntimeError(f"migration from {from_version} fails on purpose")
