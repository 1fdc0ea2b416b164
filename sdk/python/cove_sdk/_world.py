"""The exported ``init``/``handle`` that componentize-py binds to the WIT world.

Per event ``handle`` does as little Python as it can, since CPython inside
the component runs several times slower than outside (docs/performance.md):
one lookup in the dispatch table (``_handlers.ROUTES``), the payload and
meta objects made without running a Python ``__init__``, state touched
only when a handler wrote some, output flushed only when it printed.
"""

import traceback

import wit_world

from ._bindings import bindings
from ._errors import HostError
from ._event import EventMeta
from ._handlers import INIT_HOOKS, ROUTES
from ._output import WRITTEN, flush_written
from ._state import state

_new = object.__new__


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
    flush_written()


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

    def handle(self, event: str) -> None:
        # Only the kind digit is read here; the handler's event and meta decode
        # their fields when first read (see _event).
        route = ROUTES[event[0]]
        if route is None:
            return
        handlers, kind = route
        payload = _new(kind)
        payload._raw = event
        meta = _new(EventMeta)
        meta._raw = event
        dispatch(handlers, payload, meta)


def dispatch(handlers, event, meta) -> None:
    """Run ``handlers`` on one event with buffered state; MockHost calls it too."""
    # ``_pending`` read here, not through a method: a call per event is what this saves.
    if state._pending:
        state.discard()
    try:
        for handler in handlers:
            handler(event, meta)
        if state._pending:
            state.flush()
    except Exception as exc:
        state.discard()
        raise _fail(exc) from exc
    finally:
        if WRITTEN[0]:  # only a call that printed pays for the flush (see _output)
            flush_written()
