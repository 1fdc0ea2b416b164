"""Faults of the endpoints behind one chain, on anvil: what the walk does, and what health shows.

The primary down then back, both endpoints down then back, a node answering
garbage or malformed JSON-RPC, a node that rate-limits (HTTP 429): each time
no block is lost or repeated, no reorg is invented, and the source's health
and metrics say which endpoint served and which failed.
"""

from __future__ import annotations

from collections.abc import Callable

from cove import Custom
from cove._config_chain import ChainSettings
from cove._sources._chain import ChainSource, Stream
from tests.helpers.anvil import Anvil
from tests.helpers.chain_source import Journal, Progress, assert_chain, head, running, scrape
from tests.helpers.engine import wait_until
from tests.helpers.rpc_proxy import rpc_proxy
from tests.helpers.tcp_proxy import tcp_proxy

BLOCKS = [Stream(0, blocks=True)]


def chain(http: str, *fallbacks: str) -> ChainSettings:
    return ChainSettings(chain_id=31337, http=http, fallbacks=list(fallbacks), poll_interval="20ms")


def endpoint(source: ChainSource, index: int) -> dict[str, object]:
    endpoints: list[dict[str, object]] = source.health()["endpoints"]
    return endpoints[index]


def metric(text: str, name: str, index: int) -> float:
    """One per-endpoint figure of chain 31337 from the scraped text."""
    prefix = f'{name}{{chain="31337",endpoint="{index}",'
    (line,) = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(line.rsplit(" ", 1)[1])


def assert_clean(journal: Journal) -> None:
    """Every block once, in order, and no reorg invented by a failing endpoint."""
    assert_chain(journal.blocks())
    assert len(journal.published) == len(set(journal.published))
    assert not [e for e in journal.events if isinstance(e.payload, Custom)]


async def caught_up(source: ChainSource, anvil: Anvil, what: str) -> None:
    await wait_until(lambda: source.position == head(anvil), what=what)


async def test_the_primary_down_then_back(anvil: Anvil) -> None:
    async with tcp_proxy(anvil.port) as primary:
        source = ChainSource(
            chain(f"http://127.0.0.1:{primary.port}", anvil.http_url), Progress(), BLOCKS
        )
        journal = Journal()
        async with running(source, journal):
            await caught_up(source, anvil, "the head")
            assert endpoint(source, 1)["requests"] == 0  # the primary serves while it is up
            await primary.cut()
            anvil.mine(3)
            await caught_up(source, anvil, "the fallback's blocks")
            down = scrape(source)
            hits = endpoint(source, 1)["fallback_hits"]
            assert isinstance(hits, int) and hits > 0
            assert endpoint(source, 0)["last_error"] is not None
            await primary.listen()
            anvil.mine(2)
            await caught_up(source, anvil, "the primary's return")
            back = endpoint(source, 1)["fallback_hits"]
            anvil.mine(2)
            await caught_up(source, anvil, "two more")
            assert endpoint(source, 1)["fallback_hits"] == back  # the primary serves again
    assert metric(down, "cove_chain_endpoint_errors_total", 0) > 0
    assert metric(down, "cove_chain_endpoint_fallback_hits_total", 1) == hits
    assert metric(down, "cove_chain_endpoint_head", 1) == head(anvil) - 4
    assert_clean(journal)


async def test_both_endpoints_down_then_back(anvil: Anvil) -> None:
    async with tcp_proxy(anvil.port) as primary, tcp_proxy(anvil.port) as fallback:
        urls = [f"http://127.0.0.1:{p.port}" for p in (primary, fallback)]
        source, journal = ChainSource(chain(*urls), Progress(), BLOCKS), Journal()
        async with running(source, journal):
            await caught_up(source, anvil, "the head")
            await primary.cut()
            await fallback.cut()
            anvil.mine(3)
            await wait_until(lambda: source.last_error is not None, what="the failure noticed")
            assert source.health()["last_error"] == source.last_error
            down = scrape(source)
            await primary.listen()
            await fallback.listen()
            await caught_up(source, anvil, "the backfill")
            assert source.last_error is None
    assert metric(down, "cove_chain_endpoint_errors_total", 0) > 0
    assert metric(down, "cove_chain_endpoint_errors_total", 1) > 0
    assert_clean(journal)


async def test_a_node_answering_garbage_is_passed_over_and_shown(anvil: Anvil) -> None:
    with rpc_proxy(anvil.http_url) as node:
        node.mode = "garbage"
        source, journal = (
            ChainSource(chain(node.url, anvil.http_url), Progress(), BLOCKS),
            Journal(),
        )
        async with running(source, journal):
            await caught_up(source, anvil, "the head")
            anvil.mine(2)
            await caught_up(source, anvil, "two blocks from the fallback")
            primary = endpoint(source, 0)
            assert "not JSON" in str(primary["last_error"])
            assert primary["errors"] == primary["requests"]
            assert endpoint(source, 1)["fallback_hits"] == endpoint(source, 1)["requests"]
    assert_clean(journal)


async def _alone_then_healed(anvil: Anvil, mode: str, shows: Callable[[str], bool]) -> None:
    """The only endpoint turns bad: the error is in health, nothing is published; then healed."""
    with rpc_proxy(anvil.http_url) as node:
        source, journal = ChainSource(chain(node.url), Progress(), BLOCKS), Journal()
        async with running(source, journal):
            await caught_up(source, anvil, "the head")
            node.mode = mode  # type: ignore[assignment]
            anvil.mine(2)
            await wait_until(lambda: shows(str(source.last_error)), what=f"the {mode} shown")
            published = len(journal.published)
            assert metric(scrape(source), "cove_chain_endpoint_errors_total", 0) > 0
            node.mode = "pass"
            await caught_up(source, anvil, "healed")
            assert len(journal.published) == published + 2
            assert source.last_error is None
    assert_clean(journal)


async def test_malformed_answers_are_a_chain_rpc_error_in_health(anvil: Anvil) -> None:
    await _alone_then_healed(
        anvil, "malformed", lambda error: error.startswith("ChainRpcError") and "unusable" in error
    )


async def test_a_rate_limiting_node_is_retried_and_shown(anvil: Anvil) -> None:
    await _alone_then_healed(anvil, "429", lambda error: "429" in error)


async def test_a_rate_limiting_primary_passes_to_the_fallback(anvil: Anvil) -> None:
    with rpc_proxy(anvil.http_url) as node:
        source, journal = (
            ChainSource(chain(node.url, anvil.http_url), Progress(), BLOCKS),
            Journal(),
        )
        async with running(source, journal):
            await caught_up(source, anvil, "the head")
            node.mode = "429"
            anvil.mine(3)
            await caught_up(source, anvil, "the fallback's blocks")
            assert "429" in str(endpoint(source, 0)["last_error"])
            hits = endpoint(source, 1)["fallback_hits"]
            assert isinstance(hits, int) and hits > 0
            assert metric(scrape(source), "cove_chain_endpoint_fallback_hits_total", 1) == hits
    assert_clean(journal)
