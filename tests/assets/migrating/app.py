"""Test guest that migrates its state (config ``migration``): ``rename`` moves ``item:K`` to
``entry:K`` as ``{"n": value}``, ``reformat`` rewrites ``item:K`` in place as ``{"n": value}``,
``fail`` raises half-way, ``spin`` loops until its fuel runs out (a trap)."""

from cove_sdk import Migrator, WitWorld, config, on_event, on_migrate, state

__all__ = ["Migrator", "WitWorld"]


@on_migrate
def migrate(from_version):
    how = config.get("migration")
    keys = state.keys("item:")
    values = state.get_many(keys)
    for key, value in zip(keys, values, strict=True):
        if how == "rename":
            state.set("entry:" + key[len("item:") :], {"n": value, "from": from_version})
            state.delete(key)
        else:
            state.set(key, {"n": value})
    state.flush()  # the writes reach the engine: a failure must roll them back there
    if how == "fail":
        raise RuntimeError(f"migration from {from_version} fails on purpose")
    if how == "spin":
        while True:
            pass


@on_event("custom")
def put(event, meta):
    state.set("by:" + meta.id, config.get("tag"))
