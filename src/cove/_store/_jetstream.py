"""The journal on a NATS JetStream stream ([cluster] journal = "jetstream", docs/scale-out.md).

Design note: one stream per cluster holds every event, on the subject
``cove.<stream>.<kind>.<source>``, published with its id as ``Nats-Msg-Id`` so
the stream's duplicate window drops a re-sent id (an id older than the window
is journaled again). The stream sequence is the journal seq. An append returns
only after the stream's PubAck, so an event acknowledged to its sender is in
the stream. An ordered consumer delivers every new entry to this engine: it
keeps the newest ones for reads (``_jetstream_tail``) and wakes the modules;
other reads are batched direct gets by sequence (one round trip for up to
``limit`` entries, in stream order). nats-py is async: it runs on a loop
thread of its own (``_loop_thread``) behind the sync seam.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import api

from .._event_codec import event_from_json, event_to_json
from .._events import Block, Custom, Event, Log, Message, Tick, Webhook
from ..errors import StoreError
from ._base import JournalEntry, JournalRetention, JournalSize
from ._jetstream_tail import Tail
from ._loop_thread import LoopThread

TAIL_ENTRIES = 20_000

_TOKEN = re.compile(r"[^A-Za-z0-9_-]")
_FAILURES = (nats.errors.Error, TimeoutError, asyncio.TimeoutError, OSError)


def subject_of(prefix: str, event: Event) -> str:
    """``<prefix>.<kind>.<source>``: operators can consume one kind or source of the stream."""
    payload = event.payload
    source: object = ""
    if isinstance(payload, Block | Log):
        source = payload.chain_id
    elif isinstance(payload, Tick):
        source = payload.schedule
    elif isinstance(payload, Message):
        source = payload.transport
    elif isinstance(payload, Webhook):
        source = payload.path.strip("/")
    elif isinstance(payload, Custom):
        source = payload.source
    token = _TOKEN.sub("_", str(source))[:64] or "_"
    return f"{prefix}.{event.kind}.{token}"


def _unix_ms(stamp: str) -> int:
    """A NATS timestamp (RFC 3339 with nanoseconds) as Unix ms."""
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    seconds = datetime.fromisoformat(whole + "+00:00").timestamp()
    return int(seconds * 1000) + int((fraction + "000")[:3])


class JetStreamJournal:
    """``url``: the NATS server; ``stream``: the cluster's stream, made when missing;
    ``dedup_window_s``: its duplicate window; ``timeout_s``: each call's deadline."""

    def __init__(
        self, url: str, stream: str, dedup_window_s: float, timeout_s: float = 2.0
    ) -> None:
        self.where = f"{url} stream {stream}"
        self.stream = stream
        self.prefix = f"cove.{stream}"
        self._url = url
        self._window_s = dedup_window_s
        self._timeout_s = timeout_s
        self._thread = LoopThread(f"cove-jetstream-{stream}")
        self._nc: Client | None = None
        self._on_new: Callable[[], None] | None = None
        self._tail = Tail(TAIL_ENTRIES)
        self._acked = 0
        """The highest seq this engine's appends were answered with (duplicates too)."""
        try:
            self._call(self._open(), "connecting")
            self._call(self._follow(), "subscribing to the stream")
        except StoreError:
            self.close()
            raise

    def _call(self, coro: Any, what: str) -> Any:
        nc = self._nc
        if nc is not None and not nc.is_connected:
            # Refused at once, not after a deadline: a webhook gets its 503 while the client
            # reconnects, and a publish is never left in the client's buffer to go later.
            coro.close()
            raise StoreError(f"{self.where}: {what} failed: not connected (reconnecting)")
        try:
            return self._thread.call(coro, self._timeout_s * 3)
        except _FAILURES as exc:
            raise StoreError(f"{self.where}: {what} failed: {exc!r}") from None

    async def _open(self) -> None:
        async def quiet(_exc: Exception) -> None:
            """Errors surface on the calls that meet them; the client reconnects."""

        async def dropped() -> None:
            self._thread.cancel_all()

        self._nc = await nats.connect(
            self._url,
            name=f"cove-{self.stream}",
            connect_timeout=self._timeout_s,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.25,
            error_cb=quiet,
            disconnected_cb=dropped,
        )
        js = self._nc.jetstream(timeout=self._timeout_s)
        self._js = js
        """Kept: its pending asynchronous publishes live in it."""
        config = api.StreamConfig(
            name=self.stream,
            subjects=[f"{self.prefix}.>"],
            storage=api.StorageType.FILE,
            retention=api.RetentionPolicy.LIMITS,
            duplicate_window=self._window_s,
            allow_direct=True,
        )
        try:
            info = await js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await js.add_stream(config)
            return
        existing = info.config
        if existing.duplicate_window != self._window_s or not existing.allow_direct:
            # The operator's own settings (replicas, limits, placement) stay as they are.
            existing.duplicate_window = self._window_s
            existing.allow_direct = True
            await js.update_stream(existing)

    @property
    def _client(self) -> Client:
        assert self._nc is not None
        return self._nc

    # journal ----------------------------------------------------------------
    def append(self, events: Sequence[Event]) -> list[JournalEntry]:
        """Publish each event (in order) and wait for its PubAck; a duplicate is not added."""
        first: dict[str, Event] = {}
        for event in events:
            first.setdefault(event.id, event)
        if not first:
            return []
        return list(self._call(self._append(list(first.values())), "journaling events"))

    async def _append(self, events: list[Event]) -> list[JournalEntry]:
        """Publish the whole batch, then wait for the PubAcks: one round trip, not one per
        event. One connection's messages are stored in the order they were sent, so the
        sequences follow the batch's order."""
        js = self._client.jetstream(timeout=self._timeout_s)
        if len(events) == 1:
            subject, body, headers = self._message(events[0])
            acks = [await js.publish(subject, body, stream=self.stream, headers=headers)]
        else:
            pending = []
            for event in events:
                subject, body, headers = self._message(event)
                pending.append(
                    await self._js.publish_async(subject, body, stream=self.stream, headers=headers)
                )
            acks = await asyncio.wait_for(asyncio.gather(*pending), self._timeout_s)
        added = []
        for event, ack in zip(events, acks, strict=True):
            # A duplicate's seq is where the id was journaled: known to be there too.
            self._acked = max(self._acked, ack.seq)
            if not ack.duplicate:
                added.append(JournalEntry(ack.seq, event))
        return added

    def _message(self, event: Event) -> tuple[str, bytes, dict[str, str]]:
        return (
            subject_of(self.prefix, event),
            event_to_json(event).encode(),
            {"Nats-Msg-Id": event.id},
        )

    def read(self, after_seq: int, limit: int) -> list[JournalEntry]:
        held = self._tail.read(after_seq, limit)
        # A read that finds nothing while this engine's own appends lie ahead asks the
        # server: they are read at once, delivered yet or not (as on PostgreSQL).
        if held is not None and (held or self._acked <= after_seq):
            return held
        return list(self._call(self._read(after_seq, limit), "reading the journal"))

    async def _read(self, after_seq: int, limit: int) -> list[JournalEntry]:
        """One batched direct get: the messages from ``after_seq + 1`` on, in stream order,
        ended by a 204 (end of batch) or a 404 (nothing there)."""
        nc = self._client
        inbox = nc.new_inbox()
        sub = await nc.subscribe(inbox)
        try:
            request = json.dumps({"seq": after_seq + 1, "batch": limit}).encode()
            await nc.publish(f"$JS.API.DIRECT.GET.{self.stream}", request, reply=inbox)
            out: list[JournalEntry] = []
            while True:
                msg = await sub.next_msg(self._timeout_s)
                headers = msg.headers or {}
                status = headers.get("Status")
                if status is not None:
                    if status in ("204", "404"):
                        return out
                    raise StoreError(f"{self.where}: a direct get answered {status}")
                seq = int(headers["Nats-Sequence"])
                out.append(JournalEntry(seq, event_from_json(msg.data.decode())))
        finally:
            await sub.unsubscribe()

    def head(self) -> int:
        """The newest seq this engine knows of; the server's when the subscription has been
        silent a while (StoreError while the server is away)."""
        known = self.known_head()
        if self._tail.read(known, 1) is None:
            return max(known, int(self._info()["last_seq"]))
        return known

    def known_head(self) -> int:
        """The newest seq of this engine's own appends and of what its subscription
        delivered, without asking the server."""
        return max(self._tail.last, self._acked)

    def _info(self) -> dict[str, Any]:
        async def info() -> dict[str, Any]:
            msg = await self._client.request(
                f"$JS.API.STREAM.INFO.{self.stream}", b"", timeout=self._timeout_s
            )
            answer = json.loads(msg.data)
            if "error" in answer:
                raise StoreError(f"{self.where}: stream info: {answer['error']}")
            return dict(answer["state"])

        return dict(self._call(info(), "reading the stream's state"))

    # retention --------------------------------------------------------------
    def size(self) -> JournalSize:
        state = self._info()
        messages = int(state.get("messages", 0))
        first = state.get("first_ts")
        oldest = _unix_ms(str(first)) if messages and first else None
        return JournalSize(messages, int(state.get("bytes", 0)), oldest)

    def prune(self, retention: JournalRetention, floor_seq: int) -> int:
        """Purge entries at or below ``floor_seq`` that are older than ``before_ms``, or all of
        them while the stream is over ``max_bytes``; never the newest. How many went."""
        state = self._info()
        upto = min(floor_seq, int(state["last_seq"]) - 1)
        if int(state.get("bytes", 0)) <= retention.max_bytes:
            young = self._first_at(retention.before_ms)
            if young is not None:
                upto = min(upto, young - 1)
        if upto < int(state.get("first_seq", 0)):
            return 0
        before = int(state.get("messages", 0))

        async def purge() -> None:
            await self._client.jetstream().purge_stream(self.stream, seq=upto + 1)

        self._call(purge(), "pruning the journal")
        self._tail.forget(upto)
        return before - int(self._info().get("messages", 0))

    def _first_at(self, at_ms: int) -> int | None:
        """The seq of the first entry stored at or after ``at_ms``; None when none is."""

        async def first() -> int | None:
            stamp = datetime.fromtimestamp(at_ms / 1000).astimezone().isoformat()
            msg = await self._client.request(
                f"$JS.API.DIRECT.GET.{self.stream}",
                json.dumps({"start_time": stamp}).encode(),
                timeout=self._timeout_s,
            )
            headers = msg.headers or {}
            if headers.get("Status") is not None:
                return None
            return int(headers["Nats-Sequence"])

        found: int | None = self._call(first(), "finding the retention's cut")
        return found

    # following the stream ---------------------------------------------------
    async def _follow(self) -> None:
        """Subscribe an ordered consumer from the entry after the current last one: from
        then on the tail holds every entry (``_jetstream_tail``)."""
        js = self._client.jetstream(timeout=self._timeout_s)
        last = (await js.stream_info(self.stream)).state.last_seq
        self._tail.start(last)

        async def delivered(msg: Msg) -> None:
            seq = msg.metadata.sequence.stream
            self._tail.add(JournalEntry(seq, event_from_json(msg.data.decode())))
            on_new = self._on_new
            if on_new is not None:
                on_new()

        await js.subscribe(
            f"{self.prefix}.>",
            cb=delivered,
            stream=self.stream,
            ordered_consumer=True,
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            config=api.ConsumerConfig(opt_start_seq=last + 1),
        )

    def watch(self, on_new: Callable[[], None]) -> None:
        """Call ``on_new`` (on the journal's thread) for each entry any engine journals."""
        self._on_new = on_new

    def close(self) -> None:
        self._on_new = None
        nc = self._nc
        if nc is not None and not nc.is_closed and self._thread.loop.is_running():
            try:
                self._thread.call(nc.close(), self._timeout_s)
            except _FAILURES:
                pass  # the server is away: the thread goes anyway
        self._thread.close()
