"""The walk as data: headers and logs in, each depth's events out, ``rewind(ancestor)``; no I/O.

``ChainSource`` does the reading (which endpoint, which blocks, where the
common ancestor is) and the publishing; everything it decides about what a
module sees is here, on plain values, so reorgs, depths and restarts are
unit-tested on lists (with hypothesis) without a node or an event loop.

The headers need not be contiguous: when no subscription wants block
events, a backfill far below the head reads one header per range (a
checkpoint) and that range's logs, and the walk delivers logs by block
number; the last ``keep`` blocks below the head are always walked header by
header, since those are where a reorg is found and its ancestor searched.

A ``Walk`` is immutable: ``extend`` and ``rewind`` return the next walk
beside the events to publish, and the source adopts it only once those are
published, so a failed publish leaves the walk where the journal is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

import orjson

from .._events import Custom, Event, new_block, new_event, new_log
from .._log_filter import LogFilter
from ._chain_json import Header, RawLog

HISTORY: Final = 128
"""Recent headers kept beyond the deepest stream, to find the common ancestor of a reorg."""


@dataclass(frozen=True, slots=True)
class Stream:
    """What the subscriptions of one depth want: the blocks, and the logs of some filters."""

    confirmations: int
    blocks: bool
    filters: tuple[LogFilter, ...] = ()


@dataclass(frozen=True, slots=True)
class Reorg:
    """What one ``rewind`` dropped: for the log line and the ``chain.reorg`` event."""

    dropped: tuple[Header, ...]
    ancestor: Header
    confirmations: tuple[int, ...]
    """The depths that had delivered a dropped block."""


@dataclass(frozen=True, slots=True)
class Walk:
    """The walked headers (oldest first), their logs, and each depth's last delivered block."""

    chain_id: int
    streams: tuple[Stream, ...]
    history: tuple[Header, ...] = ()
    logs: Mapping[str, Sequence[RawLog]] = field(default_factory=dict)
    """Logs of the walked blocks by block hash: removed logs are re-sent from here."""
    delivered: Mapping[int, int] = field(default_factory=dict)
    starts: Mapping[int, int] = field(default_factory=dict)
    """Each depth's first block: a reorg below it must not remove logs it never delivered."""
    reorgs: int = 0
    """Reorgs walked through; in the event ids, so a block adopted again is no repeat."""
    keep: int = HISTORY
    """Headers kept beyond the deepest stream (and logs of the blocks from the oldest on)."""

    @property
    def last(self) -> Header | None:
        """The walk's position (None before the first block)."""
        return self.history[-1] if self.history else None

    def header_at(self, number: int) -> Header | None:
        """The walked header at ``number``, if the walk still keeps it."""
        for header in reversed(self.history):
            if header.number <= number:
                return header if header.number == number else None
        return None

    @property
    def deepest(self) -> int:
        return max((s.confirmations for s in self.streams), default=0)

    @property
    def wants_blocks(self) -> bool:
        """Does some stream deliver block events (then every header must be walked)?"""
        return any(s.blocks for s in self.streams)

    def extend(self, headers: Sequence[Header], logs: Iterable[RawLog]) -> tuple[Walk, list[Event]]:
        """Add blocks (the caller checked the first chains onto ``last``; with no stream
        wanting blocks they may skip heights) and their logs; return the next walk and
        what each stream may now deliver, depth by depth."""
        recent = dict(self.logs)
        grouped: dict[str, list[RawLog]] = {}
        for entry in logs:
            grouped.setdefault(entry["blockHash"], []).append(entry)
        for block_hash, entries in grouped.items():
            recent[block_hash] = [*recent.get(block_hash, ()), *entries]
        history = (*self.history, *headers)
        delivered = dict(self.delivered)
        starts = dict(self.starts)
        events: list[Event] = []
        lasts: dict[int, int] = {}
        for stream in self.streams:
            ready = history[-1].number - stream.confirmations
            last = delivered.get(stream.confirmations)
            if last is None:  # a new stream starts at now (or the oldest header kept)
                last = max(ready, history[0].number) - 1
                starts[stream.confirmations] = last + 1
            lasts[stream.confirmations] = last
            delivered[stream.confirmations] = max(last, ready)
        low = min(lasts.values(), default=0)
        high = history[-1].number
        by_number = _canonical(recent, history, low, high)
        for stream in self.streams:
            last, ready = lasts[stream.confirmations], delivered[stream.confirmations]
            takes_all = self._takes_all(stream)
            for number in sorted(n for n in by_number if last < n <= ready):
                header, block_logs = by_number[number]
                events.extend(self._stream_events(stream, header, block_logs, takes_all))
        walk = replace(self, history=history, logs=recent, delivered=delivered, starts=starts)
        return walk, events

    def rewind(self, ancestor: Header) -> tuple[Walk, list[Event], Reorg | None]:
        """Go back to ``ancestor``; each stream that had a dropped block gets its logs from
        them again as removed, after one ``chain.reorg`` (None: nothing was dropped)."""
        dropped = tuple(h for h in self.history if h.number > ancestor.number)
        if not dropped:
            return self, [], None
        reorgs = self.reorgs + 1
        removed: list[Event] = []
        reached: list[int] = []
        walked = _canonical(self.logs, self.history, ancestor.number, self.history[-1].number)
        delivered = dict(self.delivered)
        starts = dict(self.starts)
        for stream in self.streams:
            depth = stream.confirmations
            last = delivered.get(depth)
            if last is None or last <= ancestor.number:
                continue  # this depth never saw the dropped blocks
            reached.append(depth)
            delivered[depth] = ancestor.number
            start = starts.get(depth, ancestor.number + 1)
            starts[depth] = min(start, ancestor.number + 1)  # it gets the new branch from there
            for number in sorted(n for n in walked if max(start, ancestor.number + 1) <= n <= last):
                removed.extend(
                    self._log_event(entry, depth, removed=True, reorgs=reorgs)
                    for entry in walked[number][1]
                    if any(f.matches(entry) for f in stream.filters)
                )
        kept = tuple(h for h in self.history if h.number <= ancestor.number) or (ancestor,)
        logs = {h: e for h, e in self.logs.items() if _number(e) <= ancestor.number}
        walk = replace(
            self, history=kept, logs=logs, delivered=delivered, starts=starts, reorgs=reorgs
        )
        reorg = Reorg(dropped, ancestor, tuple(reached))
        if not reached:
            return walk, [], reorg
        signal = {
            "chain_id": self.chain_id,
            "from_block": dropped[0].number,
            "to_block": dropped[-1].number,
            "dropped": [h.hash for h in dropped],
            "ancestor": ancestor.number,
            "confirmations": reached,
        }
        event = Event(
            Custom("chain.reorg", f"chain:{self.chain_id}", json.dumps(signal)),
            id=f"reorg:{self.chain_id}:{dropped[0].number}:{dropped[0].hash}:r{reorgs}",
        )
        return walk, [event, *removed], reorg

    def trimmed(self) -> Walk:
        """Only the headers (and their logs) a reorg's ancestor search can still need."""
        history = self.history[-(self.keep + self.deepest) :]
        oldest = history[0].number if history else 0
        logs = {h: e for h, e in self.logs.items() if _number(e) >= oldest}
        return replace(self, history=history, logs=logs)

    # progress ------------------------------------------------------------------------
    def to_json(self) -> str:
        """orjson: a burst of logs is saved with the walk, and the stdlib took 10x as long."""
        saved = {
            "history": [list(h) for h in self.history],
            "logs": self.logs,
            "delivered": {str(d): n for d, n in self.delivered.items()},
            "starts": {str(d): n for d, n in self.starts.items()},
            "reorgs": self.reorgs,
        }
        return orjson.dumps(saved).decode()

    @classmethod
    def from_json(
        cls, chain_id: int, streams: Sequence[Stream], raw: str | None, *, keep: int = HISTORY
    ) -> Walk:
        """The saved walk (or a new one). A depth no subscription asks for any more is
        forgotten: if one comes back, it starts at now like any new depth (its old
        position may be older than the headers kept)."""
        ordered = tuple(sorted(streams, key=lambda s: s.confirmations))
        if raw is None:
            return cls(chain_id, ordered, keep=keep)
        saved: dict[str, Any] = orjson.loads(raw)
        depths = {s.confirmations for s in ordered}
        delivered = {int(d): n for d, n in saved["delivered"].items() if int(d) in depths}
        starts = {int(d): n for d, n in saved.get("starts", {}).items() if int(d) in delivered}
        return cls(
            chain_id,
            ordered,
            tuple(Header(*h) for h in saved["history"]),
            saved["logs"],
            delivered,
            starts,
            saved.get("reorgs", 0),
            keep,
        )

    # events --------------------------------------------------------------------------
    def _stream_events(
        self, stream: Stream, header: Header | None, entries: Sequence[RawLog], takes_all: bool
    ) -> list[Event]:
        depth = stream.confirmations
        out = [self._block_event(header, depth)] if stream.blocks and header is not None else []
        if not stream.filters:
            entries = ()
        if entries and not takes_all:
            entries = [e for e in entries if any(f.matches(e) for f in stream.filters)]
        out.extend(self._log_event(entry, depth, removed=False) for entry in entries)
        return out

    def _takes_all(self, stream: Stream) -> bool:
        """The logs were asked with every stream's filters: one holding them all wants each."""
        every = {f for s in self.streams for f in s.filters}
        return every <= set(stream.filters)

    def _block_event(self, header: Header, depth: int) -> Event:
        payload = new_block(
            self.chain_id, header.number, header.hash, header.parent_hash, header.timestamp, depth
        )
        suffix = _suffix(depth, self.reorgs)
        name = f"block:{self.chain_id}:{header.number}:{header.hash}{suffix}"
        return new_event(payload, name)

    def _log_event(
        self, entry: RawLog, depth: int, *, removed: bool, reorgs: int | None = None
    ) -> Event:
        index = int(entry["logIndex"], 16)
        payload = new_log(
            self.chain_id,
            int(entry["blockNumber"], 16),
            entry["blockHash"],
            entry["transactionHash"],
            index,
            entry["address"].lower(),
            tuple([t.lower() for t in entry["topics"]]),
            bytes.fromhex(entry["data"].removeprefix("0x")),
            removed,
            depth,
        )
        suffix = (":removed" if removed else "") + _suffix(
            depth, self.reorgs if reorgs is None else reorgs
        )
        name = f"log:{self.chain_id}:{entry['blockHash']}:{index}{suffix}"
        return new_event(payload, name)


def _suffix(depth: int, reorgs: int) -> str:
    return (f":c{depth}" if depth else "") + (f":r{reorgs}" if reorgs else "")


def _number(entries: Sequence[RawLog]) -> int:
    """The block number of one block's logs (all share it)."""
    return int(entries[0]["blockNumber"], 16) if entries else -1


def _canonical(
    logs: Mapping[str, Sequence[RawLog]], history: Sequence[Header], low: int, high: int
) -> dict[int, tuple[Header | None, Sequence[RawLog]]]:
    """Per block number in (low, high]: the walked header (None in a gap between
    checkpoints) and its logs; logs of a hash the walk has not got at that height
    (a branch since dropped) are left out."""
    headers = {h.number: h for h in history if low < h.number <= high}
    out: dict[int, tuple[Header | None, Sequence[RawLog]]] = {
        n: (h, logs.get(h.hash, ())) for n, h in headers.items()
    }
    for entries in logs.values():
        number = _number(entries)
        if low < number <= high and number not in headers:
            out[number] = (None, entries)
    return out
