"""The exported ``init``/``handle`` that componentize-py binds to the WIT world."""

import sys
import traceback

import wit_world

from ._bindings import bindings
from ._errors import HostError
from ._event import PAYLOADS, EventMeta, kind_of
from ._handlers import HANDLERS, INIT_HOOKS
from ._state import state


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

    def handle(self, event: bytes) -> None:
        # Only the kind byte is read here; the handler's event and meta decode
        # their fields when first read (see _event).
        kind = kind_of(event)
        handlers = HANDLERS.get(kind)
        if handlers:
            dispatch(handlers, PAYLOADS[kind](event), EventMeta(event))


def dispatch(handlers, event, meta) -> None:
    """Run ``handlers`` on one event with buffered state; MockHost calls it too."""
    state.discard()
    try:
        for handler in handlers:
            handler(event, meta)
        state.flush()
    except Exception as exc:
        state.discard()
        raise _fail(exc) from exc
    finally:
        _flush_output()
