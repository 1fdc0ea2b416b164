"""Test guest with a before-message hook: tags, vetoes, fails, writes or loops by the words.

The tag comes from the module's own state (written by an event), which shows
a hook reading state through its read-only host calls.
"""

from cove_sdk import HookHandler, Veto, WitWorld, hook, on_event, state

__all__ = ["HookHandler", "WitWorld"]


@hook("before-message")
def tag(payload):
    body = payload["body"]
    if "veto-me" in body:
        return Veto("the wasm hook says no")
    if "fail-me" in body:
        raise ValueError("the wasm hook failed on purpose")
    if "write-me" in body:
        state.set("written", True)  # refused: a hook is read-only, so the hook fails
    if "loop-me" in body:
        while True:
            pass
    payload["body"] = f"{body} [{state.get('tag') or 'wasm'}]"
    return payload


@on_event("custom")
def set_tag(event, meta):
    state.set("tag", event.payload)
