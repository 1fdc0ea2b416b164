"""On-chain registry discovery end to end: anvil runs the registry contract, Debian's
docker-registry holds the modules (pushed as `cove module push` does), and a real
Python guest (componentize-py, ``@on_migrate``) is loaded, upgraded with a migration,
refused, rolled back after a reorg, and not re-applied after a restart."""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from cove import Custom, Engine, Event
from cove._store._sqlite import SqliteStore
from cove._supply._store import sha256_pin
from tests.helpers.anvil import Anvil
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.http_server import local_http_server
from tests.helpers.module_registry import deploy_registry, publish, push_module, registry_config
from tests.helpers.modules import build_guest, toml_value, write_engine_config, write_manifest
from tests.helpers.oci_registry import local_registry
from tests.helpers.token import DEV

CAPABILITIES = ["config", "store"]
NAME = "migrating"


@pytest.fixture(scope="module")
def migrating_wasm() -> Path:
    return build_guest(NAME, CAPABILITIES, migrate=True)


@pytest.fixture(scope="module")
def oci(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with local_registry(tmp_path_factory.mktemp("oci")) as address:
        yield address


def released(
    tmp_path: Path, wasm: Path, oci: str, version: str, tag: str, migration: str = "rename"
) -> tuple[str, str]:
    """The guest at ``version`` (handled events record ``tag``, its migration does
    ``migration``) pushed to the OCI registry; its reference and pin."""
    directory = write_manifest(
        tmp_path / f"{NAME}-{version}",
        NAME,
        component=wasm,
        required=CAPABILITIES,
        config={"migration": migration, "tag": tag},
        migrate=True,
    )
    manifest = directory / "cove.toml"
    manifest.write_text(manifest.read_text().replace('version = "0.1.0"', f'version = "{version}"'))
    reference = f"oci://{oci}/cove/{tmp_path.name}/{NAME}:{version}"
    return reference, push_module(directory, reference)


def engine_config(tmp_path: Path, anvil: Anvil, contract: str, confirmations: int = 0) -> Path:
    store = f"\n[fetch]\nstore = {toml_value(str(tmp_path / 'store'))}\n"
    extra = registry_config(anvil, contract, confirmations) + store
    return write_engine_config(tmp_path / "engine.toml", [], extra)


def seed(tmp_path: Path, items: dict[str, int]) -> None:
    """State an earlier run of the module left, with no version recorded."""
    store = SqliteStore(tmp_path / "data" / "cove.db")
    store.commit(NAME, 0, {k: json.dumps(v).encode() for k, v in items.items()}, [])
    store.close()


def said(logs: list[MutableMapping[str, Any]], start: str) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs if str(entry["event"]).startswith(start)]


def running_version(engine: Engine) -> str | None:
    runner = engine.runners.get(NAME)
    if runner is None or runner.state.value != "running":
        return None
    return runner.manifest.module.version


async def runs(engine: Engine, version: str) -> None:
    await wait_until(lambda: running_version(engine) == version, what=f"{NAME} {version} running")


async def tagged(engine: Engine, event_id: str) -> Any:
    await engine.publish([Event(Custom("probe.tick", "", "{}"), id=event_id)])
    key = f"by:{event_id}"
    await wait_until(lambda: state_json(engine, NAME, key) is not None, what=f"{event_id} handled")
    return state_json(engine, NAME, key)


async def test_a_publication_loads_the_module_and_the_next_upgrades_it_with_a_migration(
    tmp_path: Path, anvil: Anvil, oci: str, migrating_wasm: Path
) -> None:
    contract = deploy_registry(anvil)
    ref1, pin1 = released(tmp_path, migrating_wasm, oci, "0.1.0", "v1")
    ref2, pin2 = released(tmp_path, migrating_wasm, oci, "0.2.0", "v2")
    seed(tmp_path, {"item:a": 1, "item:b": 2})
    async with running_engine(engine_config(tmp_path, anvil, contract)) as engine:
        assert NAME not in engine.runners
        publish(anvil, contract, NAME, "0.1.0", ref1, pin1)
        await runs(engine, "0.1.0")
        first = await tagged(engine, "first")
        publish(anvil, contract, NAME, "0.2.0", ref2, pin2)
        await runs(engine, "0.2.0")
        second = await tagged(engine, "second")
        state = {k: json.loads(v) for k, v in engine.store.state_items(NAME)}
        recorded = engine.store.state_version(NAME)
        root = engine.runners[NAME].manifest.root
    assert ("v1", "v2") == (first, second)
    assert {"n": 1, "from": "0.1.0"} == state["entry:a"]
    assert not [k for k in state if k.startswith("item:")]
    assert "0.2.0" == recorded
    assert root == tmp_path / "data" / "registry" / NAME / f"0.2.0-{pin2[7:19]}"


async def test_a_publication_from_an_unlisted_publisher_is_ignored_with_one_log_line(
    tmp_path: Path, anvil: Anvil, oci: str, migrating_wasm: Path
) -> None:
    contract = deploy_registry(anvil)
    ref1, pin1 = released(tmp_path, migrating_wasm, oci, "0.1.0", "v1")
    ref2, pin2 = released(tmp_path, migrating_wasm, oci, "0.2.0", "v2")
    with capture_logs() as logs:
        async with running_engine(engine_config(tmp_path, anvil, contract)) as engine:
            publish(anvil, contract, NAME, "0.1.0", ref1, pin1)
            await runs(engine, "0.1.0")
            publish(anvil, contract, NAME, "0.2.0", ref2, pin2, sender=DEV[1])
            publish(anvil, contract, NAME, "0.1.0", ref1, pin1)  # a marker: walked after it
            await wait_until(lambda: len(said(logs, "registry publication applied")) == 2)
            await tagged(engine, "after")
            version = running_version(engine)
    ignored = said(logs, "registry publication ignored")
    assert "0.1.0" == version
    assert 1 == len(ignored)
    assert DEV[1] == ignored[0]["publisher"]
    assert "publisher is not in [registry] publishers" in ignored[0]["event"]


async def test_a_publication_with_a_wrong_hash_is_refused_naming_both_and_the_old_keeps_running(
    tmp_path: Path, anvil: Anvil, oci: str, migrating_wasm: Path
) -> None:
    contract = deploy_registry(anvil)
    ref1, pin1 = released(tmp_path, migrating_wasm, oci, "0.1.0", "v1")
    ref2, pin2 = released(tmp_path, migrating_wasm, oci, "0.2.0", "v2")
    wrong = "sha256:" + "ab" * 32
    with capture_logs() as logs:
        async with running_engine(engine_config(tmp_path, anvil, contract)) as engine:
            publish(anvil, contract, NAME, "0.1.0", ref1, pin1)
            await runs(engine, "0.1.0")
            publish(anvil, contract, NAME, "0.2.0", ref2, wrong)
            await wait_until(lambda: bool(said(logs, "registry publication refused")))
            after = await tagged(engine, "after")
            version = running_version(engine)
            health = engine.sources[-1].health()
    refused = said(logs, "registry publication refused")[0]["error"]
    assert ("0.1.0", "v1") == (version, after)
    assert pin2 in refused and wrong in refused
    assert "0.2.0" in refused and NAME in refused
    assert refused == health["refused"]


async def test_a_reorged_publication_rolls_the_module_back_to_the_previous_version(
    tmp_path: Path, anvil: Anvil, oci: str, migrating_wasm: Path
) -> None:
    contract = deploy_registry(anvil)
    ref1, pin1 = released(tmp_path, migrating_wasm, oci, "0.1.0", "v1")
    ref2, pin2 = released(tmp_path, migrating_wasm, oci, "0.2.0", "v2")
    async with running_engine(engine_config(tmp_path, anvil, contract)) as engine:
        publish(anvil, contract, NAME, "0.1.0", ref1, pin1)
        await runs(engine, "0.1.0")
        anvil.mine(2)
        publish(anvil, contract, NAME, "0.2.0", ref2, pin2)
        await runs(engine, "0.2.0")
        anvil.rpc("anvil_reorg", [1, []])  # the publication's block replaced without it
        await runs(engine, "0.1.0")
        after = await tagged(engine, "after")
    assert "v1" == after


async def test_a_restart_runs_the_published_version_without_applying_anything_again(
    tmp_path: Path, anvil: Anvil, oci: str, migrating_wasm: Path
) -> None:
    contract = deploy_registry(anvil)
    ref1, pin1 = released(tmp_path, migrating_wasm, oci, "0.1.0", "v1")
    ref2, pin2 = released(tmp_path, migrating_wasm, oci, "0.2.0", "v2")
    config = engine_config(tmp_path, anvil, contract)
    async with running_engine(config) as engine:
        publish(anvil, contract, NAME, "0.1.0", ref1, pin1)
        await runs(engine, "0.1.0")
        publish(anvil, contract, NAME, "0.2.0", ref2, pin2)
        await runs(engine, "0.2.0")
    anvil.mine(1)
    async with running_engine(config) as engine:
        await runs(engine, "0.2.0")
        after = await tagged(engine, "after")
        anvil.mine(1)
        await wait_until(lambda: engine.sources[-1].health()["position"] is not None)
        follower = engine.sources[-1].health()
        recorded = engine.store.state_version(NAME)
    assert ("v2", "0.2.0") == (after, recorded)
    assert 0 == follower["applied"]


def served(tmp_path: Path, wasm: Path) -> tuple[bytes, bytes]:
    """The guest (tag v1) as an https-published module serves it: its cove.toml, its bytes."""
    directory = write_manifest(
        tmp_path / "served", NAME, component=wasm, required=CAPABILITIES,
        config={"migration": "rename", "tag": "v1"}, migrate=True,
    )  # fmt: skip
    return (directory / "cove.toml").read_bytes(), (directory / f"{NAME}.wasm").read_bytes()


async def test_a_module_published_by_an_https_manifest_loads_its_component_from_beside_it(
    tmp_path: Path, anvil: Anvil, migrating_wasm: Path
) -> None:
    contract = deploy_registry(anvil)
    manifest, wasm = served(tmp_path, migrating_wasm)
    routes = {"/m/cove.toml": (200, {}, manifest), f"/m/{NAME}.wasm": (200, {}, wasm)}
    with local_http_server(routes) as server:
        async with running_engine(engine_config(tmp_path, anvil, contract)) as engine:
            publish(anvil, contract, NAME, "0.1.0", server.url("/m/cove.toml"), sha256_pin(wasm))
            await runs(engine, "0.1.0")
            handled = await tagged(engine, "first")
    assert "v1" == handled


async def test_a_publication_whose_manifest_cannot_be_fetched_yet_is_tried_again(
    tmp_path: Path, anvil: Anvil, migrating_wasm: Path
) -> None:
    """A server that answers 503 for a while (a registry restarting): the publication
    waits and is applied once the fetch works, not passed over for good."""
    contract = deploy_registry(anvil)
    manifest, wasm = served(tmp_path, migrating_wasm)
    routes = {"/m/cove.toml": (503, {}, b"down"), f"/m/{NAME}.wasm": (200, {}, wasm)}
    with local_http_server(routes) as server, capture_logs() as logs:
        async with running_engine(engine_config(tmp_path, anvil, contract)) as engine:
            publish(anvil, contract, NAME, "0.1.0", server.url("/m/cove.toml"), sha256_pin(wasm))
            await wait_until(
                lambda: bool(said(logs, "registry publication waits")), what="a failed fetch"
            )
            routes["/m/cove.toml"] = (200, {}, manifest)
            await runs(engine, "0.1.0")
    assert not said(logs, "registry publication refused")


async def test_a_published_native_plugin_is_refused_the_registry_runs_only_wasm(
    tmp_path: Path, anvil: Anvil
) -> None:
    contract = deploy_registry(anvil)
    manifest = (
        f'[module]\nname = "{NAME}"\nversion = "0.1.0"\nkind = "python"\n'
        'entry = "plugin:Plugin"\nsha256 = "sha256:' + "cd" * 32 + '"\n'
    ).encode()
    with (
        local_http_server({"/cove.toml": (200, {}, manifest)}) as server,
        capture_logs() as logs,
    ):
        async with running_engine(engine_config(tmp_path, anvil, contract)) as engine:
            publish(anvil, contract, NAME, "0.1.0", server.url("/cove.toml"), "sha256:" + "cd" * 32)
            await wait_until(lambda: bool(said(logs, "registry publication refused")))
            loaded = NAME in engine.runners
    refused = said(logs, "registry publication refused")[0]["error"]
    assert not loaded
    assert ".fetch-" not in refused  # the uri is named, not a staging file
    assert refused.count(server.url("/cove.toml")) >= 1
    assert "are for kind = 'wasm'" in refused  # no pin, no publication: never native code


async def test_a_module_of_the_engine_config_is_upgraded_and_a_reorg_returns_it_to_its_own_dir(
    tmp_path: Path, anvil: Anvil, oci: str, migrating_wasm: Path
) -> None:
    contract = deploy_registry(anvil)
    local = write_manifest(
        tmp_path / "local", NAME, component=migrating_wasm, required=CAPABILITIES,
        config={"migration": "rename", "tag": "local"}, migrate=True,
    )  # fmt: skip
    ref2, pin2 = released(tmp_path, migrating_wasm, oci, "0.2.0", "v2")
    extra = registry_config(anvil, contract) + f"\n[fetch]\nstore = {toml_value(str(tmp_path))}\n"
    config = write_engine_config(tmp_path / "engine.toml", [local], extra)
    async with running_engine(config) as engine:
        await runs(engine, "0.1.0")
        anvil.mine(2)
        publish(anvil, contract, NAME, "0.2.0", ref2, pin2)
        await runs(engine, "0.2.0")
        upgraded = await tagged(engine, "upgraded")
        anvil.rpc("anvil_reorg", [1, []])
        await runs(engine, "0.1.0")
        back = await tagged(engine, "back")
        root = engine.runners[NAME].manifest.root
    assert ("v2", "local") == (upgraded, back)
    assert local.resolve() == root.resolve()


async def test_an_upgrade_whose_migration_fails_keeps_the_old_version_across_a_restart(
    tmp_path: Path, anvil: Anvil, oci: str, migrating_wasm: Path
) -> None:
    contract = deploy_registry(anvil)
    ref1, pin1 = released(tmp_path, migrating_wasm, oci, "0.1.0", "v1")
    ref2, pin2 = released(tmp_path, migrating_wasm, oci, "0.2.0", "v2", migration="fail")
    seed(tmp_path, {"item:a": 1})
    config = engine_config(tmp_path, anvil, contract)
    with capture_logs() as logs:
        async with running_engine(config) as engine:
            publish(anvil, contract, NAME, "0.1.0", ref1, pin1)
            await runs(engine, "0.1.0")
            publish(anvil, contract, NAME, "0.2.0", ref2, pin2)
            await wait_until(lambda: bool(said(logs, "registry publication refused")))
            during = (running_version(engine), await tagged(engine, "during"))
    anvil.mine(1)
    async with running_engine(config) as engine:
        await runs(engine, "0.1.0")
        after = await tagged(engine, "after")
        recorded = engine.store.state_version(NAME)
    refused = said(logs, "registry publication refused")[0]["error"]
    assert "from 0.1.0 to 0.2.0 failed" in refused
    assert ("0.1.0", "v1") == during
    assert ("v1", "0.1.0") == (after, recorded)
