"""``GET /v1/fs/...``: every module as a read-only tree, against a running engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account

from cove import Custom, Engine, Event
from cove._control._fs_path import encode_name
from cove._nostr._keys import NostrKey, npub
from cove._observe._trajectories import TrajectoryQuery
from cove._store._base import NewEffect
from tests.helpers.control import TOKEN, TOKEN_ENV, Plane, running_plane
from tests.helpers.engine import wait_until
from tests.helpers.file_view import ODD_KEYS, PASS_ENV, PASSPHRASE, files_config, write_event
from tests.helpers.keys import ADDRESS, KEY

READ_TOKEN = "read-only-token-77a1"
BINARY = b"\xff\x00\xfe"
PUBLIC_KEY = Account.from_key(KEY)._key_obj.public_key.to_hex()
NPUB = npub(NostrKey(bytes.fromhex(KEY.removeprefix("0x"))).pubkey)


def trajectory_ids(engine: Engine) -> list[int]:
    store = engine.trajectories
    return [] if store is None else [t.id for t in store.query(TrajectoryQuery(module="files"))]


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv("COVE_TEST_READ_TOKEN", READ_TOKEN)
    monkeypatch.setenv(PASS_ENV, PASSPHRASE)
    return files_config(tmp_path, read_token=True)


async def get(plane: Plane, path: str, token: str | None = READ_TOKEN) -> tuple[int, object]:
    headers = plane.auth(token) if token else {}
    response = await plane.client.get("/v1/fs" + path, headers=headers)
    if response.headers["content-type"].startswith("application/json"):
        return response.status_code, response.json()
    if response.headers["content-type"].startswith("text/plain"):
        return response.status_code, response.text
    return response.status_code, response.content


async def test_a_module_is_a_tree_of_its_parts(config: Path) -> None:
    async with running_plane(config) as plane:
        engine = plane.engine
        await engine.publish([write_event({"count": 1}, {"raw": BINARY})])
        await wait_until(lambda: engine.store.get("files", "raw") is not None, what="state")
        root = await get(plane, "")
        top = await get(plane, "/files/")
        status = await get(plane, "/files/status")
        config_file = await get(plane, "/files/config")
        keys = await get(plane, "/files/state")
        count = await get(plane, "/files/state/count")
        raw = await get(plane, "/files/state/raw")
        identity = await get(plane, "/files/identity")
        address = await get(plane, "/files/identity/address")
        public_key = await get(plane, "/files/identity/public_key")
        nostr = await get(plane, "/files/identity/npub")
        tools = await get(plane, "/files/tools")
        budget = await get(plane, "/files/budget")
        inbox = await get(plane, "/files/inbox")
        await wait_until(lambda: trajectory_ids(engine), what="a trajectory")
        trajectories = await get(plane, "/files/trajectories")
    assert (200, {"path": "", "type": "dir", "entries": [{"name": "files", "type": "dir"}]}) == root
    assert 200 == top[0]
    assert isinstance(top[1], dict)
    assert [
        "status",
        "config",
        "state",
        "inbox",
        "outbox",
        "trajectories",
        "identity",
        "tools",
        "budget",
    ] == [e["name"] for e in top[1]["entries"]]
    assert 200 == status[0] and isinstance(status[1], dict)
    assert ("files", "running", 1) == (status[1]["name"], status[1]["state"], status[1]["handled"])
    assert (200, {"greeting": "hi"}) == config_file
    assert (200, ["count", "raw"]) == (keys[0], [e["name"] for e in keys[1]["entries"]])  # type: ignore[index]
    assert (200, "1") == count
    assert (200, BINARY) == raw
    assert ["address", "public_key", "npub"] == [e["name"] for e in identity[1]["entries"]]  # type: ignore[index]
    assert (200, ADDRESS + "\n") == address
    assert (200, PUBLIC_KEY + "\n") == public_key
    assert (200, NPUB + "\n") == nostr
    assert 200 == tools[0] and ["files.echo", "files.put"] == [t["name"] for t in tools[1]]  # type: ignore[union-attr]
    assert (200, {"budgets": {}, "held": []}) == budget  # no [budgets.files] section
    assert 200 == inbox[0] and isinstance(inbox[1], list)
    assert ["files.write"] == [e["payload"]["name"] for e in inbox[1]]
    assert 200 == trajectories[0] and isinstance(trajectories[1], dict)
    names = [e["name"] for e in trajectories[1]["entries"]]
    assert 1 == len(names) and names[0].endswith(".json")


async def test_a_trajectory_and_the_outbox_read_as_json(config: Path) -> None:
    async with running_plane(config) as plane:
        engine = plane.engine
        await engine.publish([write_event({"n": 2})])
        await wait_until(lambda: engine.store.get("files", "n") is not None, what="state")
        store = engine.store
        with engine.runners["files"].lock:
            effect = NewEffect("message", json.dumps({"to": "bob", "body": "hello"}))
            store.commit("files", store.cursor("files"), {}, [("ev-1", [effect])])
            store.flush()
        listing = await get(plane, "/files/trajectories")
        name = listing[1]["entries"][0]["name"]  # type: ignore[index]
        one = await get(plane, f"/files/trajectories/{name}")
        missing = await get(plane, "/files/trajectories/1.json")
        outbox = await get(plane, "/files/outbox")
    assert 200 == one[0] and isinstance(one[1], dict)
    assert ("files", "ok") == (one[1]["module"], one[1]["outcome"])
    assert 404 == missing[0]
    assert 200 == outbox[0] and isinstance(outbox[1], dict)
    assert [{"to": "bob", "body": "hello"}] == [e["body"] for e in outbox[1]["effects"]]
    assert "message" == outbox[1]["effects"][0]["kind"]
    assert [] == outbox[1]["dead_letters"]


async def test_odd_state_keys_round_trip_through_the_path(config: Path) -> None:
    values = {key: f"value of {key!r}" for key in ODD_KEYS}
    async with running_plane(config) as plane:
        engine = plane.engine
        await engine.publish([write_event(values)])
        await wait_until(lambda: engine.store.get("files", "x//y") is not None, what="state")
        status, listing = await get(plane, "/files/state/")
        read = {}
        assert isinstance(listing, dict)
        for entry in listing["entries"]:
            code, text = await get(plane, "/files/state/" + entry["name"])
            assert 200 == code, entry
            read[entry["name"]] = json.loads(str(text))
    assert 200 == status
    assert {encode_name(k): v for k, v in values.items()} == read


async def test_unknown_modules_and_paths_are_404_and_bad_escapes_400(config: Path) -> None:
    async with running_plane(config) as plane:
        unknown = await get(plane, "/nope/status")
        no_part = await get(plane, "/files/wallet")
        under_file = await get(plane, "/files/status/x")
        no_key = await get(plane, "/files/state/absent")
        no_identity_file = await get(plane, "/files/identity/private_key")
        bad = await get(plane, "/files/state/%zz")
    assert 404 == unknown[0] and "no module named 'nope'" in unknown[1]["error"]  # type: ignore[index]
    assert 404 == no_part[0] and 404 == under_file[0]
    assert 404 == no_key[0] and "no state key 'absent'" in no_key[1]["error"]  # type: ignore[index]
    assert 404 == no_identity_file[0]
    assert 400 == bad[0] and "not percent-encoded" in bad[1]["error"]  # type: ignore[index]


async def test_the_view_needs_the_admin_or_the_read_only_token(config: Path) -> None:
    async with running_plane(config) as plane:
        anonymous = await get(plane, "/files/status", token=None)
        wrong = await get(plane, "/files/status", token="wrong")
        admin = await get(plane, "/files/status", token=TOKEN)
        reader = await get(plane, "/files/status", token=READ_TOKEN)
        spec = (await plane.client.get("/openapi.json")).json()
    assert (401, 401) == (anonymous[0], wrong[0])
    assert (200, 200) == (admin[0], reader[0])
    assert "/v1/fs/{module}/{path}" in spec["paths"]


async def test_an_engine_without_a_token_keeps_the_view_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASS_ENV, PASSPHRASE)
    async with running_plane(files_config(tmp_path, token=False)) as plane:
        closed = await get(plane, "/files/status", token=None)
    assert 403 == closed[0] and "token" in closed[1]["error"]  # type: ignore[index]


async def test_the_inbox_holds_the_newest_fifty_handled_events_newest_first(config: Path) -> None:
    """Across read windows: events of no subscription of the module are left out."""
    async with running_plane(config) as plane:
        engine = plane.engine
        for n in range(130):
            others = [Event(Custom("other.thing", "", "")) for _ in range(3)]
            await engine.publish([write_event({"n": n}), *others])  # 25 of each window of 100
        await wait_until(lambda: engine.store.get("files", "n") == b"129", what="all handled")
        status, inbox = await get(plane, "/files/inbox")
    assert 200 == status and isinstance(inbox, list)
    assert list(range(129, 79, -1)) == [
        json.loads(e["payload"]["payload"])["json"]["n"] for e in inbox
    ]
    seqs = [e["seq"] for e in inbox]
    assert sorted(seqs, reverse=True) == seqs
    assert {"files.write"} == {e["payload"]["name"] for e in inbox}


@pytest.fixture
def overridden(config: Path) -> Path:
    config.write_text(config.read_text() + '\n[overrides.files.config]\ngreeting = "hello"\n')
    return config


async def test_config_is_the_effective_one_with_the_operators_overrides(overridden: Path) -> None:
    async with running_plane(overridden) as plane:
        effective = await get(plane, "/files/config")
    assert (200, {"greeting": "hello"}) == effective
