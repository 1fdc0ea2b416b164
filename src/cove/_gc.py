"""The engine's startup objects frozen out of the cyclic garbage collector's full passes.

A started engine holds some 100,000 objects (configs, routes, schemas,
modules' bindings) that live as long as it does, and every full collection
walked them all: 6 full passes in 6.5 s of webhook load, each up to 84 ms
with the event loop stopped, which was the ingress p99. ``gc.freeze`` moves
them to a generation no pass walks (12 ms at most, measured the same way).
Garbage is collected first, so only what is alive is frozen; a frozen object
that later becomes part of a garbage cycle is not reclaimed, which matters
only for what a module reload drops, and is bounded by the startup set.

Called by ``cove run`` once the engine has started, not by ``App.start``:
a process that starts many engines (a test suite) would freeze each one's
leftovers.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Collect garbage, then move everything alive out of the collector's passes."""
    gc.collect()
    gc.freeze()
