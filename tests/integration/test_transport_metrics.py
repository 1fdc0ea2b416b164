"""Prometheus counts what the nostr and mqtt transports did: sent, received, rejected and
errors per transport, against a real nostr-relay and a real mosquitto."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx
import pytest

from cove._nostr import _nip44 as nip44
from cove._nostr._event import sign_event
from cove._nostr._keys import NostrKey, npub
from tests.helpers.control import TOKEN, TOKEN_ENV, control_section, running_plane
from tests.helpers.engine import probe_event, wait_until
from tests.helpers.mosquitto import Broker, broker, publish
from tests.helpers.nostr_relay import Relay, lax_relay
from tests.integration.test_nostr_dms import PASSPHRASE, _agent, _connected, keys, keystores

__all__ = ["broker", "keys", "keystores", "lax_relay"]  # the fixtures


def _config(tmp_path: Path, relay: Relay, broker: Broker) -> Path:
    modules = [_agent(tmp_path, "alice"), _agent(tmp_path, "carol")]
    mq = _agent(tmp_path, "mq")
    manifest = (mq / "cove.toml").read_text().replace('transport = "dm"', 'transport = "bus"')
    (mq / "cove.toml").write_text(manifest)
    extra = "".join(
        f'[identity.modules.{name}]\nkeystore = "{tmp_path / "keys" / name}.json"\n'
        f'passphrase_env = "{PASSPHRASE}"\n'
        for name in ("alice", "carol")
    )
    extra += (
        f'[[transports]]\nname = "dm"\nkind = "nostr"\nrelays = ["{relay.url}"]\n'
        'modules = ["alice", "carol"]\ntimeout = "3s"\n'
        f'[[transports]]\nname = "bus"\nkind = "mqtt"\nhost = "127.0.0.1"\nport = {broker.port}\n'
        'client_id = "cove-metrics"\nsubscribe = ["agents/mq/inbox"]\n'
        '[outbox]\nretry_initial = "100ms"\nretry_max = "200ms"\n'
    )
    body = f"modules = {json.dumps([str(m) for m in [*modules, mq]])}\n" + extra
    path = tmp_path / "engine.toml"
    path.write_text(f'data_dir = "{tmp_path / "data"}"\n' + body + control_section())
    return path


def _counts(text: str, transport: str) -> dict[str, float]:
    found = re.findall(
        rf'^cove_transport_(\w+)_total{{transport="{transport}"}} (\S+)$', text, re.M
    )
    return {name: float(value) for name, value in found}


async def test_nostr_and_mqtt_counts_are_served_to_prometheus(
    tmp_path: Path,
    lax_relay: Relay,
    broker: Broker,
    keys: dict[str, NostrKey],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    carol = npub(keys["carol"].pubkey)
    async with running_plane(_config(tmp_path, lax_relay, broker)) as plane:
        engine = plane.engine
        await _connected(engine)
        await wait_until(lambda: engine.transports["bus"]._client is not None, what="mqtt")
        dm = probe_event("dm", **{"from": "alice", "to": carol, "body": "hello"})
        bad_dm = probe_event("dm", **{"from": "alice", "to": "nobody", "body": "x"})
        bad_topic = probe_event("dm", **{"from": "mq", "to": "agents/+/inbox", "body": "x"})
        ok_topic = probe_event("dm", **{"from": "mq", "to": "agents/elsewhere", "body": "hi"})
        await engine.publish([dm, bad_dm, bad_topic, ok_topic])
        await asyncio.to_thread(publish, broker.port, "agents/mq/inbox", "from outside")
        alice = keys["alice"]
        forged = sign_event(
            alice,
            kind=4,
            content=nip44.encrypt("x", nip44.conversation_key(alice.secret, keys["carol"].pubkey)),
            tags=[["p", keys["carol"].pubkey.hex()]],
        )
        forged["content"] = forged["content"][:-4] + "AAA="
        await lax_relay.publish(forged)
        assert plane.metrics_url is not None
        async with httpx.AsyncClient() as client:

            async def scraped() -> str:
                return (await client.get(f"{plane.metrics_url}/metrics")).text

            for _ in range(200):
                text = await scraped()
                dm_counts, bus_counts = _counts(text, "dm"), _counts(text, "bus")
                if (
                    dm_counts.get("received") == 1
                    and dm_counts.get("rejected") == 1
                    and dm_counts.get("errors", 0) >= 1
                    and bus_counts.get("received") == 1
                    and bus_counts.get("errors", 0) >= 1
                ):
                    break
                await asyncio.sleep(0.1)
    assert 1 == dm_counts["sent"] and 1 == dm_counts["received"], text
    assert 1 == dm_counts["rejected"] and dm_counts["errors"] >= 1, text
    assert 1 == bus_counts["sent"] and 1 == bus_counts["received"], text
    assert 0 == bus_counts["rejected"] and bus_counts["errors"] >= 1, text
