"""Per-log object cost: what building one log's ``Log`` and ``Event`` costs (µs).

A burst builds one ``Log`` and one ``Event`` per log; the frozen dataclasses'
``__init__`` sets each field through ``object.__setattr__``. Rows: the classes'
own constructors, ``new_log``/``new_event`` (``_fast_record``), and the chain
walk's whole ``_log_event`` from a raw JSON-RPC log (this checkout's, and with
``--against REV`` that revision's), interleaved rounds, medians.
"""

from __future__ import annotations

import importlib
import statistics
import time
from collections.abc import Callable
from typing import Any

from _common import print_table

from cove._events import Event, Log, new_event, new_log
from cove._sources._chain_walk import Walk

ENTRY: dict[str, Any] = {
    "blockNumber": "0x1f",
    "blockHash": "0x" + "ab" * 32,
    "transactionHash": "0x" + "cd" * 32,
    "logIndex": "0x3",
    "address": "0x" + "EF" * 20,
    "topics": ["0x" + "12" * 32, "0x" + "34" * 32],
    "data": "0x" + "00" * 32,
}
ARGS = (31337, 31, ENTRY["blockHash"], ENTRY["transactionHash"], 3, "0xef", ("0x12",), b"", False)


def _classes() -> None:
    Event(Log(*ARGS), id="log:1")


def _fast() -> None:
    new_event(new_log(*ARGS), "log:1")


def _walk_of(package: str | None) -> Callable[[], None]:
    walk: Any = (
        Walk if package is None else importlib.import_module(f"{package}._sources._chain_walk").Walk
    )(31337, ())
    return lambda: walk._log_event(ENTRY, 0, removed=False)


def _per_call_us(call: Callable[[], None], calls: int) -> float:
    began = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - began) / calls * 1e6


def records_table(against: str | None, package: str | None, rounds: int, calls: int) -> None:
    candidates: dict[str, Callable[[], None]] = {
        "Log(...) + Event(...) (the classes' __init__)": _classes,
        "new_log + new_event (fast_constructor)": _fast,
        "chain walk _log_event, this checkout": _walk_of(None),
    }
    if package is not None:
        candidates[f"chain walk _log_event, at {against}"] = _walk_of(package)
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, call in candidates.items():
            samples[name].append(_per_call_us(call, calls))
    base = statistics.median(samples["Log(...) + Event(...) (the classes' __init__)"])
    rows: list[tuple[str, ...]] = []
    for name, values in samples.items():
        us = statistics.median(values)
        rows.append((name, f"{us:.2f}", f"{us / base:.2f}x", f"{1e6 / us:,.0f}"))
    print_table(
        f"one log's objects, {calls:,} calls x {rounds} interleaved rounds (median)",
        rows,
        ("construction", "µs per log", "÷ classes", "per second"),
    )
