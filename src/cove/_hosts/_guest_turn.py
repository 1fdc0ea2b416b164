"""One call at a time into an instance, and none from inside its own guest call."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from ..errors import ModuleReentryError


class Turned(Protocol):
    """A host with a lock for its turn, and the thread inside its guest (None when none)."""

    name: str
    _turn: threading.RLock
    _inside: int | None


H = TypeVar("H", bound=Turned)
P = ParamSpec("P")
R = TypeVar("R")


def one_at_a_time(
    what: str,
) -> Callable[[Callable[Concatenate[H, P], R]], Callable[Concatenate[H, P], R]]:
    """Serialise calls into the instance; refuse one from inside its own guest call.

    wasmtime cannot enter an instance that is already on the stack, and a
    second entry would reset the running call's state (its ``HostCalls``, its
    instance after a trap), so a host function that calls back into its own
    module gets ``ModuleReentryError`` instead; a call from another thread
    waits for the running one (a ``Store`` is not thread-safe).
    """

    def wrap(
        method: Callable[Concatenate[H, P], R],
    ) -> Callable[Concatenate[H, P], R]:
        def run(host: H, /, *args: P.args, **kwargs: P.kwargs) -> R:
            if host._inside == threading.get_ident():
                raise reentry(host.name, what)
            with host._turn:
                return method(host, *args, **kwargs)

        return run

    return wrap


def reentry(module: str, what: str) -> ModuleReentryError:
    """The refusal of a call into ``module`` from inside its own guest call (for a method
    that checks in place rather than through ``one_at_a_time``: ``handle``)."""
    return ModuleReentryError(
        module,
        f"{what} was called while the module is inside a call on this thread "
        "(a host call re-entered it); refused, the running call goes on",
    )
