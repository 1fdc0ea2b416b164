"""Shared by the chain source tests: an in-memory progress store and journal, anvil chores."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from prometheus_client import CollectorRegistry, generate_latest

from cove import Block, Event, Log
from cove._config_chain import ChainSettings
from cove._observe._chain_metrics import ChainCollector
from cove._sources._chain import ChainSource
from tests.helpers.anvil import Anvil

DEV = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
# Init code of a contract whose runtime (60003560006000a100) emits LOG1 with
# the first calldata word as its topic and no data.
EMITTER_INIT = "0x6860003560006000a10060005260096017f3"


class Progress:
    """The store's source_state, in memory."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def source_state(self, source: str) -> str | None:
        return self.values.get(source)

    def set_source_state(self, source: str, value: str) -> None:
        self.values[source] = value


class Journal:
    """What a source published, deduplicated by event id as the journal does."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.published: list[str] = []
        """Every id published, repeats included."""
        self._ids: set[str] = set()

    async def publish(self, events: Sequence[Event]) -> None:
        for event in events:
            self.published.append(event.id)
            if event.id not in self._ids:
                self._ids.add(event.id)
                self.events.append(event)

    def newest(self) -> int | None:
        """The number of the newest block published (None before the first: a wait on
        it must not fail on an empty journal)."""
        blocks = self.blocks()
        return blocks[-1].number if blocks else None

    def blocks(self, confirmations: int = 0) -> list[Block]:
        return [
            e.payload
            for e in self.events
            if isinstance(e.payload, Block) and e.payload.confirmations == confirmations
        ]

    def logs(self, confirmations: int = 0) -> list[Log]:
        return [
            e.payload
            for e in self.events
            if isinstance(e.payload, Log) and e.payload.confirmations == confirmations
        ]


@asynccontextmanager
async def running(source: ChainSource, journal: Journal) -> AsyncIterator[ChainSource]:
    task = asyncio.create_task(source.run(journal.publish))
    try:
        yield source
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def settings(anvil: Anvil) -> ChainSettings:
    return ChainSettings(chain_id=31337, http=anvil.http_url, poll_interval="20ms")


def head(anvil: Anvil) -> int:
    return int(anvil.rpc("eth_blockNumber"), 16)


def deploy_emitter(anvil: Anvil) -> str:
    tx = anvil.rpc("eth_sendTransaction", [{"from": DEV, "data": EMITTER_INIT}])
    return str(anvil.receipt(tx)["contractAddress"]).lower()


def emit(anvil: Anvil, contract: str, topic: int) -> None:
    anvil.rpc("eth_sendTransaction", [{"from": DEV, "to": contract, "data": f"0x{topic:064x}"}])


def assert_chain(blocks: list[Block]) -> None:
    """Consecutive numbers, each block's parent the one before: no gap, no duplicate."""
    for before, after in itertools.pairwise(blocks):
        assert (after.number, after.parent_hash) == (before.number + 1, before.hash)


def scrape(source: ChainSource) -> str:
    """The source's Prometheus figures, as /metrics would show them."""
    registry = CollectorRegistry()
    registry.register(ChainCollector(lambda: [source]))
    return generate_latest(registry).decode()
