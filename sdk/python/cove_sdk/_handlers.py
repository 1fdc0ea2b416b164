"""Handler registry: decorators map event kinds to the author's functions.

``ROUTES`` is the dispatch table ``handle`` reads, keyed by the event's kind
digit (its first character; the digit is the index in ``_event.KINDS``): the
kind's handlers and its payload class, or None. It is kept up to date as
handlers register (at import, which componentize-py snapshots), so an event
costs one dict lookup of a one-character string, not a lookup per kind name.
"""

from collections.abc import Callable
from typing import Any

from ._event import KINDS, PAYLOADS

Handler = Callable[..., Any]
HANDLERS: dict[str, list[Handler]] = {}
INIT_HOOKS: list[Callable[[], Any]] = []
ROUTES: dict[str, tuple[tuple[Handler, ...], type] | None] = dict.fromkeys(
    map(str, range(len(KINDS)))
)


def reset() -> None:
    """Forget every handler and init hook (``MockHost`` imports an app afresh)."""
    HANDLERS.clear()
    INIT_HOOKS.clear()
    ROUTES.update(dict.fromkeys(ROUTES))


def on_event(kind: str) -> Callable[[Handler], Handler]:
    """Register ``fn(event, meta)`` for an event kind.

    Args:
        kind: ``block``, ``log``, ``tick``, ``message``, ``webhook``, ``custom``
            or ``lifecycle``; the module gets only the events its
            ``[[subscription]]`` entries match. ``fn`` receives the event's
            record (fields as in the WIT ``event`` variant, e.g.
            ``event.number`` of a block) and ``meta`` (``id``,
            ``accepted_at_ms``, ``attempt``).
    """

    def register(fn: Handler) -> Handler:
        handlers = HANDLERS.setdefault(kind, [])
        handlers.append(fn)
        if kind in PAYLOADS:
            ROUTES[str(KINDS.index(kind))] = (tuple(handlers), PAYLOADS[kind])
        return fn

    return register


on_block = on_event("block")
on_log = on_event("log")
on_tick = on_event("tick")
on_message = on_event("message")
on_webhook = on_event("webhook")


def on_init(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Register ``fn()`` to run at init: after load and after every failure (read-only state)."""
    INIT_HOOKS.append(fn)
    return fn
