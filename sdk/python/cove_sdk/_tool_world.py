"""The exported ``cove:host/tool-provider`` that componentize-py binds to the tool-module world."""

import json
import traceback

from wit_world.imports import types

from ._bindings import bindings
from ._errors import HostError
from ._state import state
from ._tools import TOOLS
from ._world import _flush_output


def _error(kind: str, message: str) -> Exception:
    if bindings.err is None:  # looked up with the interfaces, on first use
        bindings.interface("logging")
    kinds = types.ErrorKind
    member = getattr(kinds, kind.upper().replace("-", "_"), kinds.INTERNAL)
    err: Exception = bindings.err(types.HostError(member, message))
    return err


class ToolProvider:
    def list_tools(self) -> list:
        # Imported here: MockHost's fake bindings have no exports, and it calls only call_tool.
        from wit_world.exports import tool_provider

        return [
            tool_provider.ToolSpec(t.name, t.description, json.dumps(t.schema))
            for t in TOOLS.values()
        ]

    def call_tool(self, name: str, arguments_json: str) -> str:
        found = TOOLS.get(name)
        if found is None:
            raise _error("not-found", f"no tool {name!r} in this module")
        state.discard()
        try:
            result = found.fn(**json.loads(arguments_json or "{}"))
            state.flush()
            return json.dumps(result)
        except HostError as exc:
            state.discard()
            raise _error(exc.kind, exc.message) from exc
        except Exception as exc:
            state.discard()
            text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            raise _error("internal", f"tool {name!r} raised {text}") from exc
        finally:
            _flush_output()
