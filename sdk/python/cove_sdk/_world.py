"""The exported ``init``/``handle`` that componentize-py binds to the WIT world."""

import sys
import traceback

import wit_world

from ._bindings import bindings
from ._errors import HostError
from ._handlers import HANDLERS, INIT_HOOKS
from ._state import state

_KIND = {
    "Event_Block": "block",
    "Event_Log": "log",
    "Event_Tick": "tick",
    "Event_Message": "message",
    "Event_Webhook": "webhook",
    "Event_Custom": "custom",
    "Event_Lifecycle": "lifecycle",
}


def _fail(exc: BaseException) -> Exception:
    text = (
        str(exc)
        if isinstance(exc, HostError)
        else "".join(traceback.format_exception_only(type(exc), exc)).strip()
    )
    err: Exception = bindings.err(text)
    return err


def _flush_output() -> None:
    # Guest stdout is block-buffered; flush so what a call printed reaches the
    # module log with that call, not some later one (or never).
    sys.stdout.flush()
    sys.stderr.flush()


class WitWorld(wit_world.WitWorld):
    def init(self) -> None:
        try:
            for hook in INIT_HOOKS:
                hook()
        except Exception as exc:
            # ``from exc``: the sandbox ignores the cause; MockHost re-raises it.
            raise _fail(exc) from exc
        finally:
            _flush_output()

    def handle(self, meta, event) -> None:
        kind = _KIND[type(event).__name__]
        state.discard()
        try:
            for handler in HANDLERS.get(kind, ()):
                handler(event.value, meta)
            state.flush()
        except Exception as exc:
            state.discard()
            raise _fail(exc) from exc
        finally:
            _flush_output()
