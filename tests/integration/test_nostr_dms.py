"""Modules of two engines exchange NIP-44 encrypted DMs through a real nostr-relay.

Each module's Nostr identity is its identity keystore; DMs are decrypted in
the host for the addressed module only, forged, tampered and misaddressed
ones are refused with one log line, and a relay outage loses nothing.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from cove._keystore import new_key, unlock
from cove._nostr import _nip44 as nip44
from cove._nostr._event import sign_event
from cove._nostr._keys import NostrKey, npub
from cove._sources._nostr import NostrTransport
from tests.helpers.engine import probe_event, running_engine, state_json, wait_until
from tests.helpers.modules import ASSETS, write_engine_config, write_manifest
from tests.helpers.nostr_relay import Relay, lax_relay, relay

__all__ = ["lax_relay", "relay"]  # the fixtures

PASSPHRASE = "NOSTR_TEST_PASS"


def _agent(directory: Path, name: str, *, reply: bool = False) -> Path:
    module = write_manifest(
        directory / name,
        name,
        kind="python",
        entry="agent:Agent",
        required=["store", "messaging"],
        config={"me": name, "transport": "dm", "reply": reply},
        subscriptions=[{"kind": "custom", "name": "probe.*"}, {"kind": "message"}],
    )
    shutil.copy(ASSETS / "nostr_agent" / "agent.py", module / "agent.py")
    return module


def _engine(directory: Path, relays: list[str], agents: dict[str, bool], keys: Path) -> Path:
    modules = [_agent(directory, name, reply=reply) for name, reply in agents.items()]
    extra = "".join(
        f'[identity.modules.{name}]\nkeystore = "{keys / name}.json"\n'
        f'passphrase_env = "{PASSPHRASE}"\n'
        for name in agents
    )
    extra += (
        f'[[transports]]\nname = "dm"\nkind = "nostr"\nrelays = {json.dumps(relays)}\n'
        f"modules = {json.dumps(list(agents))}\n"
        'reconnect_initial = "100ms"\nreconnect_max = "500ms"\ntimeout = "3s"\n'
        '[outbox]\nretry_initial = "100ms"\nretry_max = "500ms"\n'
    )
    directory.mkdir(exist_ok=True)
    return write_engine_config(directory / "engine.toml", modules, extra)


@pytest.fixture(scope="module")
def keystores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, NostrKey]]:
    """alice, bob and carol keystores (and dave, who serves nowhere); scrypt is slow, so once."""
    directory = tmp_path_factory.mktemp("nostr-keys")
    out = {}
    for name in ("alice", "bob", "carol", "dave"):
        new_key(directory, name, "correct horse")
        out[name] = NostrKey(bytes(unlock(directory, name, "correct horse").key))
    return directory, out


@pytest.fixture
def keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keystores: tuple[Path, dict[str, NostrKey]]
) -> dict[str, NostrKey]:
    monkeypatch.setenv(PASSPHRASE, "correct horse")
    (tmp_path / "keys").symlink_to(keystores[0])
    return keystores[1]


def _dm(frm: str, to: str, body: str) -> Any:
    return probe_event("dm", **{"from": frm, "to": to, "body": body})


def _inbox(engine: Any, module: str) -> list[dict[str, Any]]:
    return state_json(engine, module, "inbox") or []


async def _connected(*engines: Any) -> None:
    for engine in engines:
        transport = engine.transports["dm"]
        assert isinstance(transport, NostrTransport)
        await wait_until(lambda t=transport: bool(t._open), what="a relay connection")


async def test_two_engines_modules_exchange_encrypted_dms(
    tmp_path: Path, relay: Relay, keys: dict[str, NostrKey]
) -> None:
    a = _engine(tmp_path / "a", [relay.url], {"alice": False, "bob": False}, tmp_path / "keys")
    b = _engine(tmp_path / "b", [relay.url], {"carol": True}, tmp_path / "keys")
    carol = npub(keys["carol"].pubkey)
    async with running_engine(a) as engine_a, running_engine(b) as engine_b:
        await _connected(engine_a, engine_b)
        await engine_a.publish([_dm("alice", carol, "hello carol")])
        await engine_a.publish([_dm("bob", carol, "bob here")])
        await wait_until(lambda: len(_inbox(engine_b, "carol")) == 2, what="carol's DMs")
        await wait_until(lambda: _inbox(engine_a, "alice") != [], what="carol's answer")
        await wait_until(lambda: _inbox(engine_a, "bob") != [], what="carol's answer to bob")
        heard = {m["body"]: m for m in _inbox(engine_b, "carol")}
        assert heard["hello carol"]["sender"] == npub(keys["alice"].pubkey)
        assert heard["bob here"]["sender"] == npub(keys["bob"].pubkey)
        assert heard["hello carol"]["recipient"] == carol
        [answer] = _inbox(engine_a, "alice")
        assert (answer["body"], answer["sender"]) == ("re: hello carol", carol)
        assert [m["body"] for m in _inbox(engine_a, "bob")] == ["re: bob here"]  # not alice's
        stored = await relay.query({"kinds": [4], "#p": [keys["carol"].pubkey.hex()]})
        assert len(stored) == 2
        assert all("hello" not in e["content"] and "bob" not in e["content"] for e in stored)
        # the event id of a DM is its nostr id: the relay's replay is the same event
        assert {m["id"] for m in _inbox(engine_b, "carol")} == {
            f"message:dm:{e['id']}" for e in stored
        }
        await engine_a.publish([_dm("alice", "note", "public hello")])
        await wait_until(lambda: engine_a.outbox.delivered >= 3, what="the note")
        [note] = await relay.query({"kinds": [1], "authors": [keys["alice"].pubkey.hex()]})
        assert note["content"] == "public hello"


async def test_forged_tampered_and_misaddressed_dms_are_refused_with_one_line_each(
    tmp_path: Path, lax_relay: Relay, keys: dict[str, NostrKey]
) -> None:
    config = _engine(tmp_path / "b", [lax_relay.url], {"carol": False}, tmp_path / "keys")
    carol, dave = keys["carol"].pubkey, keys["dave"].pubkey
    alice = keys["alice"]

    def dm(content: str, to: bytes = carol) -> dict[str, Any]:
        return sign_event(alice, kind=4, content=content, tags=[["p", to.hex()]])

    def sealed(body: str, to: bytes) -> str:
        return nip44.encrypt(body, nip44.conversation_key(alice.secret, to))

    raw = bytearray(base64.b64decode(sealed("pay 1 eth", carol)))
    raw[40] ^= 1
    tampered = dm(base64.b64encode(bytes(raw)).decode())
    misaddressed = dm(sealed("for dave", dave))  # p-tagged to carol, sealed for dave
    forged = dm(sealed("from alice?", carol))
    forged["sig"] = dm(sealed("other", carol))["sig"]
    good = dm(sealed("the real one", carol))
    async with running_engine(config) as engine:
        await _connected(engine)
        with capture_logs() as logs:
            for event in (tampered, misaddressed, forged, good):
                assert (await lax_relay.publish(event))[2] is True
            await wait_until(lambda: _inbox(engine, "carol") != [], what="the good DM")
            transport = engine.transports["dm"]
            await wait_until(lambda: transport.rejected == 3, what="three refusals")
        assert [m["body"] for m in _inbox(engine, "carol")] == ["the real one"]
    lines = {e["nostr_id"]: e["reason"] for e in logs if e["event"] == "nostr DM rejected"}
    assert len([e for e in logs if e["event"] == "nostr DM rejected"]) == 3, logs
    assert "invalid MAC" in lines[tampered["id"]]
    assert "invalid MAC" in lines[misaddressed["id"]]
    assert "bad signature" in lines[forged["id"]]


async def test_a_relay_outage_loses_nothing(
    tmp_path: Path, relay: Relay, keys: dict[str, NostrKey]
) -> None:
    a = _engine(tmp_path / "a", [relay.url], {"alice": False}, tmp_path / "keys")
    b = _engine(tmp_path / "b", [relay.url], {"carol": False}, tmp_path / "keys")
    carol = npub(keys["carol"].pubkey)
    async with running_engine(a) as engine_a, running_engine(b) as engine_b:
        await _connected(engine_a, engine_b)
        relay.stop()
        for n in range(3):
            await engine_a.publish([_dm("alice", carol, f"while down {n}")])
        await wait_until(lambda: engine_a.outbox.failures["dm"] >= 3, what="failed sends")
        relay.start()
        await wait_until(lambda: len(_inbox(engine_b, "carol")) == 3, what="all three DMs")
        assert sorted(m["body"] for m in _inbox(engine_b, "carol")) == [
            f"while down {n}" for n in range(3)
        ]
        assert engine_a.transports["dm"].outages >= 1


async def test_dms_sent_while_the_receiving_engine_was_stopped_arrive_when_it_starts(
    tmp_path: Path, relay: Relay, keys: dict[str, NostrKey]
) -> None:
    a = _engine(tmp_path / "a", [relay.url], {"alice": False}, tmp_path / "keys")
    b = _engine(tmp_path / "b", [relay.url], {"carol": False}, tmp_path / "keys")
    carol = npub(keys["carol"].pubkey)
    async with running_engine(a) as engine_a:
        await _connected(engine_a)
        for n in range(2):
            await engine_a.publish([_dm("alice", carol, f"while you were away {n}")])
        await wait_until(lambda: engine_a.outbox.delivered == 2, what="both sent")
    async with running_engine(b) as engine_b:
        await wait_until(lambda: len(_inbox(engine_b, "carol")) == 2, what="both DMs")
    async with running_engine(b) as engine_b:  # a restart asks again: the journal keeps one each
        await _connected(engine_b)
        transport = engine_b.transports["dm"]
        assert isinstance(transport, NostrTransport)
        await wait_until(lambda: transport.received == 2, what="the relay's replay")
        assert len(_inbox(engine_b, "carol")) == 2
