"""The exported ``cove:host/hook-handler`` that componentize-py binds to the hook-module world."""

import json
import traceback

from wit_world.exports import hook_handler

from ._bindings import bindings
from ._hooks import HOOKS, Veto
from ._world import _flush_output


class HookHandler:
    def on_hook(self, point: str, payload_json: str) -> hook_handler.HookOutcome:
        actions = hook_handler.HookAction
        found = HOOKS.get(point)
        if found is None:
            raise bindings.err(f"no @hook({point!r}) in this module")
        try:
            answer = found(json.loads(payload_json))
        except Exception as exc:
            text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            raise bindings.err(f"hook {point!r} raised {text}") from exc
        finally:
            _flush_output()
        if answer is None:
            return hook_handler.HookOutcome(actions.PASS, "", "")
        if isinstance(answer, Veto):
            return hook_handler.HookOutcome(actions.VETO, "", answer.reason)
        return hook_handler.HookOutcome(actions.REPLACE, json.dumps(answer), "")
