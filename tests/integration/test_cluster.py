"""Engines sharing modules on one PostgreSQL ([cluster]): each module runs on one engine, an
engine that joins takes its share, one that leaves hands its modules over, and events
journaled by any engine reach every module wherever it runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import psycopg
import pytest

from cove import Custom, Engine, Event
from cove._control._api import status_json
from cove.testing import MemoryTransport
from tests.helpers.control import TOKEN, TOKEN_ENV, control_section, running_plane
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import ASSETS, write_engine_config, write_manifest
from tests.helpers.postgres import PostgresServer
from tests.integration.test_cli_control import cove

PASSWORD_ENV = "COVE_TEST_PG_PASSWORD"


def cluster_config(
    directory: Path,
    modules: list[Path],
    dsn: str,
    engine_id: str,
    more: str = "",
    cluster_more: str = "",
) -> Path:
    """``more``: sections before the store's; ``cluster_more``: keys added to [cluster]."""
    extra = more + (
        f'[store]\nkind = "postgres"\ndsn = "{dsn}"\npassword_secret = "pg"\n'
        f'[secrets.pg]\nenv = "{PASSWORD_ENV}"\n'
        f'[cluster]\nengine_id = "{engine_id}"\nlease_ttl = "1500ms"\nrenew_every = "300ms"\n'
        + cluster_more
    )
    directory.mkdir(parents=True, exist_ok=True)
    return write_engine_config(directory / "engine.toml", modules, extra)


def counters(directory: Path, count: int) -> list[Path]:
    modules = []
    for i in range(count):
        module = write_manifest(
            directory / f"c{i}",
            f"c{i}",
            kind="python",
            entry="counter:Counter",
            required=["store", "messaging"],
            subscriptions=[{"kind": "custom", "name": "probe.*"}],
            config={"transport": "memory"},
        )
        (module / "counter.py").write_text((ASSETS / "native_counter" / "counter.py").read_text())
        modules.append(module)
    return modules


def placed(*engines: Engine) -> dict[str, str]:
    """Each running module and the engine running it, from every engine's status."""
    out: dict[str, str] = {}
    for engine in engines:
        for status in engine.status():
            if status.state == "running":
                assert status.name not in out, f"{status.name} runs on two engines"
                out[status.name] = status.engine
    return out


def ticks(count: int) -> list[Event]:
    return [Event(Custom("probe.tick", "", "{}")) for _ in range(count)]


async def test_engines_share_the_modules_and_hand_them_over(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    dsn = postgres.database()
    modules = counters(tmp_path, 4)
    names = {f"c{i}" for i in range(4)}
    config_a = cluster_config(tmp_path / "a", modules, dsn, "a")
    config_b = cluster_config(tmp_path / "b", modules, dsn, "b")
    async with running_engine(config_a, transports=[MemoryTransport()]) as a:
        await wait_until(lambda: set(placed(a)) == names, what="a runs every module")
        async with running_engine(config_b, transports=[MemoryTransport()]) as b:
            await wait_until(
                lambda: sorted(placed(a, b).values()) == ["a", "a", "b", "b"],
                what="two modules each",
            )
            on_b = {n: e for n, e in placed(a, b).items() if e == "b"}
            await wait_until(
                lambda: on_b == {s.name: s.engine for s in a.status() if s.state == "elsewhere"},
                what="a shows where b's modules run",
            )
            listed = {m["name"]: m["engine"] for m in map(status_json, b.status())}
            assert listed == placed(a, b), "/v1/modules names each module's engine"
            await a.publish(ticks(10))
            await b.publish(ticks(10))
            await wait_until(
                lambda: all(state_json(a, n, "count") == 20 for n in names), what="20 each"
            )
        await wait_until(lambda: set(placed(a)) == names, timeout=10, what="a takes all back")
        await a.publish(ticks(5))
        await wait_until(lambda: all(state_json(a, n, "count") == 25 for n in names))
    with psycopg.connect(dsn, password=postgres.password) as db:
        twice = db.execute(
            "SELECT module, epoch FROM commit_audit GROUP BY module, epoch "
            "HAVING COUNT(DISTINCT engine) > 1"
        ).fetchall()
        engines = {row[0] for row in db.execute("SELECT DISTINCT engine FROM commit_audit")}
    assert [] == twice
    assert {"a", "b"} == engines


async def test_a_control_plane_says_which_engine_runs_a_module(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any engine lists every module with its engine; an action on a module another engine
    runs is refused naming that engine (ask its control plane), not "no such module"."""
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    dsn = postgres.database()
    modules = counters(tmp_path, 2)
    config_a = cluster_config(tmp_path / "a", modules, dsn, "a", control_section())
    config_b = cluster_config(tmp_path / "b", modules, dsn, "b", control_section())
    async with running_plane(config_a) as a, running_plane(config_b) as b:
        await wait_until(
            lambda: sorted(placed(a.engine, b.engine).values()) == ["a", "b"], what="one each"
        )
        on_b = next(n for n, e in placed(a.engine, b.engine).items() if e == "b")
        await wait_until(
            lambda: any(s.name == on_b and s.engine == "b" for s in a.engine.status()),
            what="a sees where it runs",
        )
        listed = (await a.client.get("/v1/modules", headers=a.auth())).json()["modules"]
        assert {m["name"]: m["engine"] for m in listed} == placed(a.engine, b.engine)
        answer = await a.client.post(f"/v1/modules/{on_b}/revive", headers=a.auth())
        assert 409 == answer.status_code
        assert "runs on engine 'b'" in answer.json()["error"]
        table = await cove(a, "module", "list")
        assert 0 == table.code, table.err
        header, *rows = [line.split() for line in table.out.splitlines() if line.strip()]
        assert "engine" == header[-1]
        assert [on_b, "elsewhere", "b"] == [
            next(r for r in rows if r[0] == on_b)[i] for i in (0, 1, -1)
        ], "an empty version column leaves the state second"
        assert a.metrics_url is not None
        async with httpx.AsyncClient() as scraper:
            scraped = (await scraper.get(a.metrics_url + "/metrics")).text
        on_a = next(n for n in placed(a.engine, b.engine) if n != on_b)
        assert f'cove_module_events_handled_total{{module="{on_a}"}}' in scraped
        assert f'module="{on_b}"' not in scraped, "a's metrics count only what a runs"


async def test_a_quiet_engine_keeps_its_session_and_its_leases(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No events at all: what loading the modules wrote is flushed well within the server's
    idle-in-transaction limit (half a lease), so the session is never ended under a quiet
    engine and its modules keep their first epoch."""
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    dsn = postgres.database()
    config = cluster_config(tmp_path / "a", counters(tmp_path, 2), dsn, "a")
    async with running_engine(config, transports=[MemoryTransport()]) as engine:
        await wait_until(lambda: set(placed(engine)) == {"c0", "c1"}, what="both run")
        await asyncio.sleep(3)  # four idle limits
        assert engine.store.stopped() is None
        assert engine.placement is not None
        assert {"c0": 1, "c1": 1} == {n: e for n, e in engine.placement.held.items() if n[0] == "c"}


async def test_a_refused_module_keeps_its_lease_and_its_error(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module that cannot load is refused once with its error, not taken, refused and
    released every round (a new epoch each time); the others run."""
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    dsn = postgres.database()
    modules = counters(tmp_path, 2)
    (modules[1] / "counter.py").write_text("raise ImportError('broken on purpose')\n")
    config = cluster_config(tmp_path / "a", modules, dsn, "a")
    async with running_engine(config, transports=[MemoryTransport()]) as engine:
        await wait_until(lambda: set(placed(engine)) == {"c0"}, what="c0 runs")
        await asyncio.sleep(2)
        assert engine.placement is not None
        assert 1 == engine.placement.held.get("c1")
        assert ["broken on purpose"] == [
            "broken on purpose" for e in engine.load_errors.values() if "broken on purpose" in e
        ]
