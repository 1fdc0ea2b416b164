"""The exported ``cove:host/hook-handler`` that componentize-py binds to the hook-module world.

The generated ``hook_handler`` types are looked up per call, not at import,
so an app that exports ``HookHandler`` still imports in plain Python
(``cove_sdk.testing.MockHost`` calls its hooks directly).
"""

import importlib
import json
import traceback
from typing import Any

from ._bindings import bindings
from ._hooks import HOOKS, Veto
from ._state import state
from ._world import _flush_output


class HookHandler:
    def on_hook(self, point: str, payload_json: str) -> Any:
        hook_handler = importlib.import_module("wit_world.exports.hook_handler")
        actions = hook_handler.HookAction
        found = HOOKS.get(point)
        if found is None:
            raise bindings.err(f"no @hook({point!r}) in this module")
        state.discard()
        try:
            answer = found(json.loads(payload_json))
            state.flush()  # a hook may not write: the host refuses, and the hook fails
        except Exception as exc:
            state.discard()
            text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            raise bindings.err(f"hook {point!r} raised {text}") from exc
        finally:
            _flush_output()
        if answer is None:
            return hook_handler.HookOutcome(actions.PASS, "", "")
        if isinstance(answer, Veto):
            return hook_handler.HookOutcome(actions.VETO, "", answer.reason)
        return hook_handler.HookOutcome(actions.REPLACE, json.dumps(answer), "")
