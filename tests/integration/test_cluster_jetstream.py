"""Engines sharing modules with the journal on NATS JetStream ([cluster] journal =
"jetstream"): an event accepted by one engine reaches a module run by another, in stream
order, journaled once however often its id is sent; state and cursors stay in PostgreSQL."""

from __future__ import annotations

import itertools
from pathlib import Path

import psycopg
import pytest

from cove import Custom, Event
from cove._store._base import NewEffect
from cove._store._jetstream import JetStreamJournal
from cove._store._postgres_jetstream import JetStreamPostgresStore
from cove.testing import MemoryTransport
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import ASSETS, write_manifest
from tests.helpers.nats import NatsServer
from tests.helpers.postgres import PostgresServer
from tests.integration.test_cluster import PASSWORD_ENV, cluster_config, placed

_streams = itertools.count()


def jetstream_config(
    directory: Path, modules: list[Path], dsn: str, nats_url: str, stream: str, engine_id: str
) -> Path:
    journal = f'journal = "jetstream"\nnats_url = "{nats_url}"\nstream = "{stream}"\n'
    return cluster_config(directory, modules, dsn, engine_id, cluster_more=journal)


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


def test_an_emitted_event_is_relayed_once_across_a_crash_before_its_mark(
    postgres: PostgresServer, nats_server: NatsServer
) -> None:
    """An emit is an outbox row committed with the module's state; the relay publishes it
    with its stable id, then marks it. An engine that dies between the two leaves it
    pending: the next one publishes it again, and the stream keeps it once."""
    dsn = postgres.database()
    stream = f"C{next(_streams)}"

    def store() -> JetStreamPostgresStore:
        journal = JetStreamJournal(nats_server.url, stream, 120.0)
        return JetStreamPostgresStore(dsn, journal, password=postgres.password)

    first = store()
    first.commit(
        "m", 1, {"k": b"1"}, [("ev1", [NewEffect("emit", '{"name": "x", "payload": ""}')])]
    )
    first.flush()
    (entry,) = first.pending_effects(2**62, 10)
    emitted = Event(Custom("x", "m", ""), id=f"emit:{entry.key}")
    first.effect_done(entry.id, [emitted])  # published; the mark is not flushed: a crash
    first.journal.close()
    first._db.close()
    second = store()
    try:
        (again,) = second.pending_effects(2**62, 10)
        assert again.key == entry.key, "the effect is still pending after the crash"
        second.effect_done(again.id, [Event(Custom("x", "m", ""), id=f"emit:{again.key}")])
        second.flush()
        assert [] == second.pending_effects(2**62, 10)
        assert [f"emit:{entry.key}"] == [e.event.id for e in second.read(0, 10)]
    finally:
        second.close()
