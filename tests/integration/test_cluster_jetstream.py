"""Engines sharing modules with the journal on NATS JetStream ([cluster] journal =
"jetstream"): an event accepted by one engine reaches a module run by another, in stream
order, journaled once however often its id is sent; state and cursors stay in PostgreSQL."""

from __future__ import annotations

import itertools
from pathlib import Path

import psycopg
import pytest

from cove import Custom, Event
from cove._store._jetstream import JetStreamJournal
from cove.testing import MemoryTransport
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import ASSETS, write_engine_config, write_manifest
from tests.helpers.nats import NatsServer
from tests.helpers.postgres import PostgresServer
from tests.integration.test_cluster import PASSWORD_ENV, placed

_streams = itertools.count()


def jetstream_config(
    directory: Path, modules: list[Path], dsn: str, nats_url: str, stream: str, engine_id: str
) -> Path:
    extra = (
        f'[store]\nkind = "postgres"\ndsn = "{dsn}"\npassword_secret = "pg"\n'
        f'[secrets.pg]\nenv = "{PASSWORD_ENV}"\n'
        f'[cluster]\nengine_id = "{engine_id}"\nlease_ttl = "1500ms"\nrenew_every = "300ms"\n'
        f'journal = "jetstream"\nnats_url = "{nats_url}"\nstream = "{stream}"\n'
    )
    directory.mkdir(parents=True, exist_ok=True)
    return write_engine_config(directory / "engine.toml", modules, extra)


def recorders(directory: Path, count: int) -> list[Path]:
    """Counters that also record the ids they handled, in order."""
    modules = []
    for i in range(count):
        module = write_manifest(
            directory / f"r{i}",
            f"r{i}",
            kind="python",
            entry="counter:Counter",
            required=["store", "messaging"],
            subscriptions=[{"kind": "custom", "name": "probe.*"}],
            config={"transport": "memory", "record_order": True},
        )
        (module / "counter.py").write_text((ASSETS / "native_counter" / "counter.py").read_text())
        modules.append(module)
    return modules


def _probe(i: int) -> Event:
    return Event(Custom("probe.n", "", str(i)), id=f"n{i}")


async def test_an_event_accepted_on_one_engine_is_handled_on_the_other_in_order(
    tmp_path: Path,
    postgres: PostgresServer,
    nats_server: NatsServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    dsn = postgres.database()
    stream = f"C{next(_streams)}"
    modules = recorders(tmp_path, 2)
    configs = [
        jetstream_config(tmp_path / e, modules, dsn, nats_server.url, stream, e) for e in "ab"
    ]
    async with (
        running_engine(configs[0], transports=[MemoryTransport()]) as a,
        running_engine(configs[1], transports=[MemoryTransport()]) as b,
    ):
        await wait_until(
            lambda: sorted(placed(a, b).values()) == ["a", "b"], what="one module each"
        )
        on_a = next(n for n, e in placed(a, b).items() if e == "a")
        for i in range(20):  # one by one on b, as webhooks arrive
            await b.publish([_probe(i)])
        await a.publish([_probe(i) for i in range(5)])  # re-sent ids: dropped by the stream
        expected = [f"n{i}" for i in range(20)]
        await wait_until(
            lambda: state_json(a, on_a, "order") == expected,
            what=f"{on_a} on a handles b's events in order",
        )
        await wait_until(lambda: all(state_json(b, n, "count") == 20 for n in placed(a, b)))
    journal = JetStreamJournal(nats_server.url, stream, 120.0)
    try:
        assert expected == [e.event.id for e in journal.read(0, 100)]
    finally:
        journal.close()
    with psycopg.connect(dsn, password=postgres.password) as db:
        assert (0,) == db.execute("SELECT COUNT(*) FROM journal").fetchone(), "not in PostgreSQL"
        cursors = {str(m): int(s) for m, s in db.execute("SELECT module, seq FROM cursors")}
    assert {"r0": 20, "r1": 20} == cursors, "cursors are stream sequences"
