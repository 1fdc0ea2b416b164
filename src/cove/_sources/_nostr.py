"""Nostr transports: signed notes and NIP-44 v2 DMs through relays, for the served modules.

One task per relay keeps its WebSocket: connect, ask (``REQ``) for the kind 4
events ``p``-tagged to the served modules' pubkeys since the last one seen
(kept in the store, so a restart resumes there; on the very first start,
``lookback`` ago), read, and on any loss reconnect with doubling
backoff, logging one line when an outage starts and one when it ends. DMs
are checked and decrypted here, in the host (``_nostr_dm``), and journaled
for the addressed module only; the journal keeps one event per nostr id, so
a replay or the same DM from two relays is one event.

A send is signed by the sending module's key and published to every
connected relay; it succeeds when one relay answers ``OK`` (a ``duplicate``
answer included: a retry of a send that did reach it). With no relay
connected, no OK in time, or refusals from all, it raises ``DeliveryError``
and the outbox retries it. The signed event of a send is kept by its
idempotency key, so a retry publishes the same event (same id).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from websockets.asyncio.client import ClientConnection, connect

from .._nostr._event import NostrEvent
from .._nostr._keys import NostrKey
from ..errors import DeliveryError, NostrError
from ._base import Publish, SourceProgress, Transport, TransportCounts
from ._nostr_dm import DM_KIND, Resend, Served, inbound_event, outbound_event

_KEPT_SENDS = 4096
"""Signed events kept for retries (by idempotency key); older retries sign anew."""
_KEPT_REJECTIONS = 4096
"""Refused (and taken) event ids remembered, so each is handled once, not once per relay."""
_SUBSCRIPTION = "cove-dms"
_LIVE = "cove-dms-live"
_SLACK_S = 60
"""Asked again from this long before the newest DM seen: relays and clocks disagree a little."""


def state_key(transport: str) -> str:
    return f"nostr:{transport}"


@dataclass(frozen=True, slots=True)
class NostrOptions:
    """Everything one nostr transport needs; the composition root fills it from the config."""

    relays: tuple[str, ...]
    keys: dict[str, NostrKey] = field(repr=False)
    lookback_s: int = 3600
    timeout_s: float = 10.0
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 30.0


class NostrTransport(Transport):
    """Sends as the served module that sends; the DMs to served modules become events."""

    def __init__(self, name: str, options: NostrOptions, log: Any = None) -> None:
        self.name = name
        self._options = options
        self._served = Served(options.keys)
        self._log = log or structlog.get_logger("cove.nostr")
        self._publish: Publish | None = None
        self._open: dict[str, ClientConnection] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._acks: dict[tuple[str, str], asyncio.Future[tuple[bool, str]]] = {}
        self._signed: OrderedDict[str, NostrEvent] = OrderedDict()
        self._rejected: OrderedDict[str, None] = OrderedDict()
        self._taken: OrderedDict[str, None] = OrderedDict()
        """Ids journaled lately: a live DM comes once per subscription and relay."""
        self._since = int(time.time()) - options.lookback_s
        self.outages = 0
        """Relay connection losses so far (a failed first connect counts as one)."""
        self.rejected = 0
        """DMs refused: forged, tampered, or not for a served module."""
        self.received = 0
        """DMs handed to the journal: each once per run (the newest 4096 ids are remembered);
        after a restart, the relay's replay counts again, and the journal keeps one."""
        self.sent = 0
        """Events a relay took."""
        self.send_errors = 0
        """Sends that raised (the outbox retries them)."""

    async def start(self, publish: Publish) -> None:
        self._publish = publish
        if self.progress is not None and not self._tasks:
            self._resume(self.progress)
        if not self._tasks:
            loop = asyncio.get_running_loop()
            self._tasks = [
                loop.create_task(self._run(url), name=f"nostr:{self.name}:{url}")
                for url in self._options.relays
            ]

    def _resume(self, progress: SourceProgress) -> None:
        """From the stored point when there is one; else record the lookback's start."""
        raw = progress.source_state(state_key(self.name))
        try:
            self._since = int(json.loads(raw)["since"]) if raw is not None else self._since
        except (ValueError, TypeError, KeyError):
            self._log.warning(
                "nostr progress unreadable; asking from the lookback", transport=self.name
            )
        progress.set_source_state(state_key(self.name), json.dumps({"since": self._since}))

    async def send(
        self, recipient: str, body: str, metadata: Sequence[tuple[str, str]], idempotency_key: str
    ) -> None:
        """Without a sender: as the one served module (several: the outbox names the sender)."""
        if len(self._options.keys) != 1:
            raise DeliveryError(
                f"transport {self.name!r} serves {sorted(self._options.keys)}: a send must "
                "name the module it is from"
            )
        [module] = self._options.keys
        await self.send_from(module, recipient, body, metadata, idempotency_key)

    async def send_from(
        self,
        module: str,
        recipient: str,
        body: str,
        metadata: Sequence[tuple[str, str]],
        idempotency_key: str,
        *,
        created_ms: int = 0,
    ) -> None:
        try:
            await self._send_from(module, recipient, body, metadata, idempotency_key, created_ms)
        except DeliveryError:
            self.send_errors += 1
            raise
        self.sent += 1

    def counts(self) -> TransportCounts:
        return TransportCounts(
            self.sent, self.received, self.rejected, self.send_errors + self.outages
        )

    async def _send_from(
        self,
        module: str,
        recipient: str,
        body: str,
        metadata: Sequence[tuple[str, str]],
        idempotency_key: str,
        created_ms: int,
    ) -> None:
        event = self._signed.get(idempotency_key)
        if event is None:
            key = self._options.keys.get(module)
            if key is None:
                raise DeliveryError(
                    f"transport {self.name!r} does not serve module {module!r} (its modules: "
                    f"{sorted(self._options.keys)}); add it to transports.{self.name}.modules"
                )
            try:
                resend = Resend(idempotency_key, created_ms // 1000) if created_ms > 0 else None
                event = outbound_event(
                    key, recipient, body, metadata, self._served.conversations, resend=resend
                )
            except NostrError as exc:
                raise DeliveryError(f"transport {self.name!r}: {exc}") from None
            self._signed[idempotency_key] = event
            while len(self._signed) > _KEPT_SENDS:
                self._signed.popitem(last=False)
        await self._publish_event(event)
        self._signed.pop(idempotency_key, None)

    async def _publish_event(self, event: NostrEvent) -> None:
        relays = dict(self._open)
        if not relays:
            raise DeliveryError(f"transport {self.name!r}: no relay connected")
        text = json.dumps(["EVENT", event])
        loop = asyncio.get_running_loop()
        waiting = {}
        for url, ws in relays.items():
            future: asyncio.Future[tuple[bool, str]] = loop.create_future()
            self._acks[(url, event["id"])] = future
            waiting[future] = url
            try:
                await ws.send(text)
            except Exception as exc:  # a connection that just dropped: the others may take it
                future.set_result((False, f"send failed: {exc}"))
        refusals: list[str] = []
        try:
            pending = set(waiting)
            deadline = loop.time() + self._options.timeout_s
            while pending:
                done, pending = await asyncio.wait(
                    pending,
                    timeout=max(0.0, deadline - loop.time()),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if not done:
                    break
                for future in done:
                    accepted, why = future.result()
                    if accepted or why.startswith("duplicate"):
                        return
                    refusals.append(f"{waiting[future]}: {why}")
        finally:
            for url in waiting.values():
                self._acks.pop((url, event["id"]), None)
        why = "; ".join(refusals) if refusals else "no relay answered OK in time"
        raise DeliveryError(f"transport {self.name!r}: event {event['id'][:16]}… not taken: {why}")

    async def aclose(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, url: str) -> None:
        """Connect, subscribe, read, reconnect; until cancelled."""
        failures = 0
        down_since: float | None = None
        o = self._options
        while True:
            error = "closed by the relay"
            try:
                async with connect(url, open_timeout=o.timeout_s, max_size=2**22) as ws:
                    for subscription, filter_ in self._subscriptions():
                        await ws.send(json.dumps(["REQ", subscription, filter_]))
                    self._open[url] = ws
                    if down_since is not None:
                        self._log.info(
                            "nostr relay back",
                            transport=self.name,
                            relay=url,
                            down_s=round(time.monotonic() - down_since, 1),
                        )
                    failures, down_since = 0, None
                    async for raw in ws:
                        await self._on_message(url, raw)
            except Exception as exc:  # refused, dropped, a journal that failed: all reconnect
                error = f"{type(exc).__name__}: {exc}"
            finally:
                self._open.pop(url, None)
                for (relay, _), future in list(self._acks.items()):
                    if relay == url and not future.done():
                        future.set_result((False, "connection lost before OK"))
            failures += 1
            if down_since is None:
                down_since = time.monotonic()
                self.outages += 1
                self._log.warning(
                    "nostr relay connection lost; reconnecting with backoff",
                    transport=self.name,
                    relay=url,
                    error=error,
                )
            base = min(o.reconnect_max_s, o.reconnect_initial_s * 2 ** max(0, failures - 1))
            await asyncio.sleep(base * random.uniform(0.8, 1.2))

    def _filter(self) -> dict[str, Any]:
        pubkeys = sorted(self._served.by_pubkey())
        return {"kinds": [DM_KIND], "#p": pubkeys, "since": self._since}

    def _subscriptions(self) -> list[tuple[str, dict[str, Any]]]:
        """The backlog since the resume point, and live DMs whatever their date.

        A relay matches live events against ``since`` too, so a DM dated before the
        resume point (a held one approved late, a send retried after an outage keeps
        its date) would pass by; the second subscription has no ``since``, and its
        ``limit`` of 1 keeps its stored part to the newest DM (the journal drops it).
        Two subscriptions, not two filters in one: relays apply a ``limit`` to the
        whole query."""
        live = {k: v for k, v in self._filter().items() if k != "since"}
        return [(_SUBSCRIPTION, self._filter()), (_LIVE, {**live, "limit": 1})]

    async def _on_message(self, url: str, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            return
        if not isinstance(message, list) or not message:
            return
        if message[0] == "OK" and len(message) >= 3:
            future = self._acks.get((url, str(message[1])))
            if future is not None and not future.done():
                why = str(message[3]) if len(message) > 3 else ""
                future.set_result((bool(message[2]), why))
        elif message[0] == "EVENT" and len(message) >= 3 and isinstance(message[2], dict):
            await self._inbound(url, message[2])
        elif message[0] == "CLOSED" and len(message) >= 2 and message[1] in (_SUBSCRIPTION, _LIVE):
            why = str(message[2]) if len(message) > 2 else ""
            raise NostrError(f"the relay closed the DM subscription: {why}")

    async def _inbound(self, url: str, event: NostrEvent) -> None:
        nostr_id = str(event.get("id", ""))
        if nostr_id in self._rejected or nostr_id in self._taken or self._publish is None:
            return
        try:
            journaled = inbound_event(self.name, event, self._served)
        except NostrError as exc:
            self._rejected[nostr_id] = None
            while len(self._rejected) > _KEPT_REJECTIONS:
                self._rejected.popitem(last=False)
            self.rejected += 1
            self._log.warning(
                "nostr DM rejected",
                transport=self.name,
                relay=url,
                nostr_id=nostr_id,
                sender=str(event.get("pubkey", ""))[:64],
                reason=str(exc),
            )
            return
        await self._publish([journaled])
        self._taken[nostr_id] = None
        while len(self._taken) > _KEPT_REJECTIONS:
            self._taken.popitem(last=False)
        self.received += 1
        created = event.get("created_at")
        if isinstance(created, int):  # after an outage or a restart, ask again from here
            seen = min(created, int(time.time())) - _SLACK_S  # a date in the future moves nothing
            if seen > self._since:
                self._since = seen
                if self.progress is not None:
                    self.progress.set_source_state(
                        state_key(self.name), json.dumps({"since": seen})
                    )
