"""A nostr transport resumes from the last DM it saw, kept in the store (source state):
after a restart it neither misses DMs older than ``lookback`` nor reads the whole
``lookback`` window again (real nostr-relay; DMs published with chosen ``created_at``)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from cove._nostr import _nip44 as nip44
from cove._nostr._event import sign_event
from cove._nostr._keys import NostrKey
from cove._sources._nostr import NostrTransport
from tests.helpers.engine import running_engine, wait_until
from tests.helpers.nostr_relay import Relay, relay
from tests.integration.test_nostr_dms import _connected, _engine, _inbox, keys, keystores

__all__ = ["keys", "keystores", "relay"]  # the fixtures


def _with_lookback(config: Path, lookback: str) -> Path:
    text = config.read_text().replace(
        'timeout = "3s"\n', f'timeout = "3s"\nlookback = "{lookback}"\n'
    )
    config.write_text(text)
    return config


async def _dm_to_carol(relay: Relay, keys: dict[str, NostrKey], body: str, age_s: int) -> None:
    """alice's DM to carol, dated ``age_s`` ago, straight to the relay."""
    alice, carol = keys["alice"], keys["carol"].pubkey
    sealed = nip44.encrypt(body, nip44.conversation_key(alice.secret, carol))
    event = sign_event(
        alice,
        kind=4,
        content=sealed,
        tags=[["p", carol.hex()]],
        created_at=int(time.time()) - age_s,
    )
    assert (await relay.publish(event))[2] is True


def _transport(engine: object) -> NostrTransport:
    transport = engine.transports["dm"]  # type: ignore[attr-defined]
    assert isinstance(transport, NostrTransport)
    return transport


async def test_a_dm_older_than_the_lookback_that_came_while_stopped_still_arrives(
    tmp_path: Path, relay: Relay, keys: dict[str, NostrKey]
) -> None:
    config = _with_lookback(
        _engine(tmp_path / "b", [relay.url], {"carol": False}, tmp_path / "keys"), "1s"
    )
    first_start = int(time.time())
    async with running_engine(config) as engine:
        await _connected(engine)
    await _dm_to_carol(relay, keys, "sent while you were stopped", age_s=0)
    while int(time.time()) <= first_start + 3:  # the DM is older than the lookback now
        await asyncio.sleep(0.1)
    async with running_engine(config) as engine:
        await wait_until(lambda: _inbox(engine, "carol") != [], timeout=10, what="the DM")
        assert ["sent while you were stopped"] == [m["body"] for m in _inbox(engine, "carol")]


async def test_a_restart_asks_from_the_last_dm_seen_not_from_the_lookback(
    tmp_path: Path, relay: Relay, keys: dict[str, NostrKey]
) -> None:
    config = _engine(tmp_path / "b", [relay.url], {"carol": False}, tmp_path / "keys")
    async with running_engine(config) as engine:
        await _connected(engine)
        await _dm_to_carol(relay, keys, "fifty minutes old", age_s=3000)
        await _dm_to_carol(relay, keys, "ten minutes old", age_s=600)
        await wait_until(lambda: len(_inbox(engine, "carol")) == 2, what="both DMs")
    async with running_engine(config) as engine:
        await _connected(engine)
        since = _transport(engine)._filter()["since"]
        await _dm_to_carol(relay, keys, "new", age_s=0)
        await wait_until(lambda: len(_inbox(engine, "carol")) == 3, what="the new DM")
    # the newest DM seen, less a minute's slack, bounds what is asked again: the
    # ten-minute-old one may be read once more, the fifty-minute-old one is not
    now = int(time.time())
    assert now - 600 - 60 - 5 <= since <= now - 600 - 60


async def test_a_dm_dated_before_the_resume_point_is_taken_while_connected(
    tmp_path: Path, relay: Relay, keys: dict[str, NostrKey]
) -> None:
    """A late DM (a held one approved, a send retried after an outage) keeps its early date."""
    config = _with_lookback(
        _engine(tmp_path / "b", [relay.url], {"carol": False}, tmp_path / "keys"), "1s"
    )
    async with running_engine(config) as engine:
        await _connected(engine)
        await _dm_to_carol(relay, keys, "approved an hour after its commit", age_s=3600)
        await wait_until(lambda: _inbox(engine, "carol") != [], timeout=10, what="the late DM")
