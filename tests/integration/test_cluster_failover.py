"""Failover proof on real servers: three engine processes share six modules on one PostgreSQL
(the journal in it, or on a NATS JetStream stream) under steady load on every engine, webhooks posted round the engines and cron ticks; a random engine is killed with SIGKILL
(or paused with SIGSTOP past its lease) and started again, over and over. Afterwards every
journaled event is counted exactly once by every module, every outbox message was delivered
with one stable key, and the commit audit shows no lease epoch committed on two engines."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from cove._event_codec import event_from_json
from cove._events import Webhook
from cove._store._jetstream import JetStreamJournal
from tests.helpers.modules import ASSETS, REPO, write_engine_config, write_manifest
from tests.helpers.nats import NatsServer
from tests.helpers.postgres import PostgresServer

PASSWORD_ENV = "COVE_TEST_PG_PASSWORD"
ENGINES = 3
MODULES = 6
FAILOVER_LIMIT_S = 10.0
TOKEN = "cluster-webhook-token"


def _modules(directory: Path) -> list[Path]:
    modules = []
    for i in range(MODULES):
        module = write_manifest(
            directory / f"m{i}",
            f"m{i}",
            kind="python",
            entry="counter:Counter",
            required=["store", "messaging"],
            subscriptions=[
                {"kind": "custom", "name": "probe.*"},
                {"kind": "tick", "every": "1s"},
                {"kind": "webhook", "path": "/load"},
            ],
            config={"transport": "file"},
        )
        (module / "counter.py").write_text((ASSETS / "native_counter" / "counter.py").read_text())
        modules.append(module)
    return modules


class Cluster:
    """The engine processes and the database (and NATS server) they share."""

    def __init__(
        self, tmp_path: Path, postgres: PostgresServer, nats: NatsServer | None = None
    ) -> None:
        self.dsn = postgres.database()
        self.password = postgres.password
        self.nats_url = None if nats is None else nats.url
        self.stream = "f" + re.sub(r"[^A-Za-z0-9_-]", "_", tmp_path.name)[-60:]
        """Each cluster's own stream: tests share the session's NATS server."""
        self.refused = 0
        """Webhooks answered 503: the engine could not journal them (not accepted)."""
        self.out = tmp_path / "delivered.jsonl"
        self.tmp = tmp_path
        (tmp_path / "token").write_text(TOKEN + "\n")
        modules = _modules(tmp_path / "modules")
        self.configs = [self._config(modules, f"e{i}") for i in range(ENGINES)]
        self.drain_config = self._config(modules, "drain")
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.urls: dict[int, str] = {}
        self.accepted = 0
        self._load = threading.Event()
        self.db = psycopg.connect(self.dsn, password=self.password, autocommit=True)

    def _config(self, modules: list[Path], engine_id: str) -> Path:
        (self.tmp / engine_id).mkdir()
        extra = (
            f'[store]\nkind = "postgres"\ndsn = "{self.dsn}"\npassword_secret = "pg"\n'
            f'[secrets.pg]\nenv = "{PASSWORD_ENV}"\n'
            f'[cluster]\nengine_id = "{engine_id}"\nlease_ttl = "3s"\nrenew_every = "1s"\n'
            + self._journal_keys()
            + f'[webhook]\nport = 0\ntoken_file = "{self.tmp / "token"}"\n'
        )
        return write_engine_config(self.tmp / engine_id / "engine.toml", modules, extra)

    def _journal_keys(self) -> str:
        if self.nats_url is None:
            return ""
        return f'journal = "jetstream"\nnats_url = "{self.nats_url}"\nstream = "{self.stream}"\n'

    def journal(self) -> list[tuple[str, str]]:
        """Every journaled event's id and body, in journal order, wherever the journal is."""
        if self.nats_url is None:
            rows = self.db.execute("SELECT id, body FROM journal ORDER BY seq").fetchall()
            return [(str(event_id), str(body)) for event_id, body in rows]
        from cove._event_codec import event_to_json

        journal = JetStreamJournal(self.nats_url, self.stream, 120.0)
        try:
            out: list[tuple[str, str]] = []
            while batch := journal.read(len(out), 1000):
                out += [(e.event.id, event_to_json(e.event)) for e in batch]
            return out
        finally:
            journal.close()

    def start(self, i: int, mode: str = "run") -> subprocess.Popen[bytes]:
        config = self.drain_config if mode == "drain" else self.configs[i]
        log = config.parent / "engine.log"
        with open(log, "ab") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.helpers.cluster_driver", str(config), str(self.out), mode],
                cwd=REPO,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while b"started" not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"engine {i} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        for line in log.read_text().splitlines()[::-1]:
            if line.startswith("webhook "):
                self.urls[i] = line.split(" ", 1)[1] + "/webhooks/load"
                break
        self.procs[i] = proc
        return proc

    def webhooks(self) -> threading.Thread:
        """Post webhooks round the live engines (40/s) until ``stop_webhooks``; count
        the accepted ones (202: journaled before the answer)."""

        def post() -> None:
            headers = {"authorization": f"Bearer {TOKEN}"}
            with httpx.Client(timeout=2) as client:
                n = 0
                while not self._load.is_set():
                    n += 1
                    url = self.urls.get(n % ENGINES)
                    try:
                        if url is not None:
                            answer = client.post(url, content=b'{"n": %d}' % n, headers=headers)
                            self.accepted += answer.status_code == 202
                            self.refused += answer.status_code == 503
                    except httpx.HTTPError:
                        pass  # that engine is dead or paused: not accepted
                    time.sleep(0.025)

        thread = threading.Thread(target=post, daemon=True)
        thread.start()
        return thread

    def stop_webhooks(self, thread: threading.Thread) -> None:
        self._load.set()
        thread.join(10)

    def leases(self) -> dict[str, tuple[str, int, bool]]:
        rows = self.db.execute(
            "SELECT name, engine, epoch, "
            "expires_ms > (extract(epoch from clock_timestamp()) * 1000)::bigint "
            "FROM leases WHERE name NOT LIKE 'role:%'"
        ).fetchall()
        return {str(n): (str(e), int(ep), bool(live)) for n, e, ep, live in rows}

    def handled_under(self, module: str, epoch: int) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM commit_audit WHERE module = %s AND epoch = %s LIMIT 1", (module, epoch)
        ).fetchone()
        return row is not None

    def settled(self, timeout: float = 30.0) -> None:
        """Wait until every engine runs a share of the modules (a restarted one rejoined)."""
        deadline = time.monotonic() + timeout
        while True:
            leases = self.leases()
            engines = {e for e, _, live in leases.values() if live}
            if len(leases) == MODULES and len(engines) == ENGINES:
                if all(live for _, _, live in leases.values()):
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"the cluster did not settle: {leases}")
            time.sleep(0.1)

    def steady(self, quiet: float = 3.0) -> dict[str, int]:
        """Settle, then wait until no lease changed hands for ``quiet`` seconds; the epochs."""
        self.settled()
        deadline = time.monotonic() + 60
        epochs = {name: epoch for name, (_, epoch, _) in self.leases().items()}
        since = time.monotonic()
        while time.monotonic() - since < quiet:
            assert time.monotonic() < deadline, "the leases kept changing hands"
            time.sleep(0.2)
            now = {name: epoch for name, (_, epoch, _) in self.leases().items()}
            if now != epochs:
                epochs, since = now, time.monotonic()
        return epochs

    def fail(self, i: int, how: signal.Signals, pause: float = 0.0) -> float:
        """Kill (or pause) engine ``i``; seconds until each of its modules handled an event
        on a survivor under a new epoch."""
        victim = f"e{i}"
        before = {n: ep for n, (e, ep, live) in self.leases().items() if e == victim and live}
        proc = self.procs[i]
        os.kill(proc.pid, how)
        start = time.monotonic()
        moved: set[str] = set()
        while moved != set(before):
            for name, (engine, epoch, live) in self.leases().items():
                if name in before and engine != victim and live and epoch > before[name]:
                    if self.handled_under(name, epoch):
                        moved.add(name)
            if time.monotonic() - start > 30:
                self.dump_stacks()
                raise AssertionError(f"modules of {victim} did not move: {before} {self.leases()}")
            time.sleep(0.05)
        took = time.monotonic() - start
        if how == signal.SIGSTOP:
            time.sleep(max(0.0, pause - took))
            os.kill(proc.pid, signal.SIGCONT)
        else:
            proc.wait()
            self.start(i)
        return took

    def dump_stacks(self) -> None:
        """Every live engine writes its threads' stacks to its log (a hung engine's why)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGUSR1)
        time.sleep(1)
        sessions = self.db.execute(
            "SELECT a.pid, a.application_name, a.state, a.wait_event_type, "
            "pg_blocking_pids(a.pid), left(a.query, 120) FROM pg_stat_activity a "
            "WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()"
        ).fetchall()
        print("sessions:", *sessions, sep="\n  ")

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            proc.wait(timeout=60)

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.db.close()


def _drain_and_check(cluster: Cluster, load: threading.Thread) -> None:
    """End the load, stop every engine, let one engine handle what is left, then count."""
    cluster.stop_webhooks(load)
    cluster.stop_all()
    drain = cluster.start(0, "drain")
    assert 0 == drain.wait(timeout=120)
    _check_exactly_once(cluster)


def _check_exactly_once(cluster: Cluster) -> None:
    db = cluster.db
    rows = cluster.journal()
    counted = [event_id for event_id, _ in rows]
    assert len(counted) == len(set(counted)), "an event was journaled twice"
    hooks = sum(isinstance(event_from_json(body).payload, Webhook) for _, body in rows)
    assert cluster.accepted > 10, "the webhook load should have been accepted"
    assert hooks >= cluster.accepted, "an accepted webhook was not journaled"
    counts = {
        str(module): json.loads(bytes(value))
        for module, value in db.execute("SELECT module, value FROM state WHERE key = 'count'")
    }
    assert len(counted) > 100, "the load should have produced a steady stream"
    assert any(i.startswith("tick:") for i in counted), "the cron source should have ticked"
    assert {f"m{i}": len(counted) for i in range(MODULES)} == counts
    assert (0,) == db.execute("SELECT COUNT(*) FROM outbox WHERE NOT done").fetchone()
    delivered = [json.loads(line) for line in cluster.out.read_text().splitlines() if line]
    bodies: dict[str, set[str]] = {}
    for d in delivered:
        bodies.setdefault(d["key"], set()).add(d["body"])
    expected = {f"m{i}:{event_id}:0" for i in range(MODULES) for event_id in counted}
    assert expected == set(bodies), f"{len(expected - set(bodies))} messages never delivered"
    assert all(len(b) == 1 for b in bodies.values()), "a redelivery changed its body"
    twice = db.execute(
        "SELECT module, epoch FROM commit_audit GROUP BY module, epoch "
        "HAVING COUNT(DISTINCT engine) > 1"
    ).fetchall()
    assert [] == twice, "a lease epoch committed on two engines"
    # Each module's commits, in the order they were made, never go back in epoch or seq.
    for module in counts:
        rows = db.execute(
            "SELECT epoch, seq FROM commit_audit WHERE module = %s ORDER BY id", (module,)
        ).fetchall()
        assert rows == sorted(rows), f"{module}: a stale engine committed after a takeover"


def _run(
    tmp_path: Path,
    postgres: PostgresServer,
    kills: int,
    pauses: int,
    nats: NatsServer | None = None,
) -> list[float]:
    cluster = Cluster(tmp_path, postgres, nats)
    rng = random.Random(1919)
    took: list[float] = []
    try:
        for i in range(ENGINES):
            cluster.start(i)
        load = cluster.webhooks()
        for round_ in range(kills + pauses):
            cluster.settled()
            time.sleep(rng.uniform(0.2, 1.5))
            victim = rng.randrange(ENGINES)
            if round_ < kills:
                took.append(cluster.fail(victim, signal.SIGKILL))
            else:
                took.append(cluster.fail(victim, signal.SIGSTOP, pause=5.0))
        cluster.settled()
        _drain_and_check(cluster, load)
    finally:
        cluster.close()
    assert max(took) <= FAILOVER_LIMIT_S, f"failover took {max(took):.1f}s"
    return took


def test_killed_engines_lose_nothing_and_apply_nothing_twice(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    took = _run(tmp_path, postgres, kills=2, pauses=0)
    print(f"failover s: {[round(t, 2) for t in took]}")


def test_a_paused_engine_loses_its_modules_and_nothing_is_applied_twice(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    took = _run(tmp_path, postgres, kills=0, pauses=2)
    print(f"failover s (pauses): {[round(t, 2) for t in took]}")


def test_kills_with_the_jetstream_journal_lose_nothing_and_apply_nothing_twice(
    tmp_path: Path,
    postgres: PostgresServer,
    nats_server: NatsServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same proof with the journal on a JetStream stream: webhooks acknowledged after
    the PubAck, cursors in PostgreSQL pointing at stream sequences; kills, then a pause."""
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    took = _run(tmp_path, postgres, kills=3, pauses=1, nats=nats_server)
    print(f"failover s (jetstream): {[round(t, 2) for t in took]}")


@pytest.mark.slow
def test_twenty_kills_of_a_random_engine(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    took = _run(tmp_path, postgres, kills=20, pauses=2)
    print(f"failover p50 {statistics.median(took):.2f}s max {max(took):.2f}s")


def _engines_committing_since(cluster: Cluster, since_ms: float) -> set[str]:
    rows = cluster.db.execute(
        "SELECT DISTINCT engine FROM commit_audit WHERE at_ms > %s", (int(since_ms),)
    ).fetchall()
    return {str(row[0]) for row in rows}


@pytest.mark.parametrize("journal", ["postgres", "jetstream"])
def test_a_postgres_restart_under_load_is_waited_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nats_server: NatsServer, journal: str
) -> None:
    """The database restarts (fast shutdown: every session cut, open batches lost) while
    three engines run under load: they drop their modules, reconnect, take them again and
    resume from what was committed; nothing is lost or counted twice. With the JetStream
    journal the events stay in the stream meanwhile; only state, cursors and leases wait."""
    server = PostgresServer()  # its own: restarting the session's would cut other tests
    server.start()
    monkeypatch.setenv(PASSWORD_ENV, server.password)
    cluster = Cluster(tmp_path, server, nats_server if journal == "jetstream" else None)
    try:
        for i in range(ENGINES):
            cluster.start(i)
        load = cluster.webhooks()
        cluster.settled()
        time.sleep(2)
        cluster.db.close()
        server.restart()
        cluster.db = psycopg.connect(cluster.dsn, password=server.password, autocommit=True)
        cluster.settled(timeout=60)
        back = time.time() * 1000
        deadline = time.monotonic() + 30
        while _engines_committing_since(cluster, back) != {f"e{i}" for i in range(ENGINES)}:
            assert time.monotonic() < deadline, "the engines did not resume committing"
            time.sleep(0.2)
        _drain_and_check(cluster, load)
    finally:
        cluster.close()
        server.stop()


def test_a_nats_restart_under_load_is_waited_out(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The NATS server dies (SIGKILL) under load with the JetStream journal and comes back
    on the same store: meanwhile webhooks are refused with 503 (nothing is accepted that is
    not in the stream); then the engines reconnect and resume, nothing lost or doubled."""
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    nats = NatsServer()  # its own: killing the session's would cut other tests
    nats.start()
    cluster = Cluster(tmp_path, postgres, nats)
    try:
        for i in range(ENGINES):
            cluster.start(i)
        load = cluster.webhooks()
        epochs = cluster.steady()
        nats.kill()
        refused = cluster.refused
        time.sleep(4)
        assert cluster.refused > refused, "webhooks were not refused while NATS was away"
        nats.start()
        back = time.time() * 1000
        deadline = time.monotonic() + 40
        while _engines_committing_since(cluster, back) != {f"e{i}" for i in range(ENGINES)}:
            assert time.monotonic() < deadline, "the engines did not resume committing"
            time.sleep(0.2)
        accepted = cluster.accepted
        time.sleep(2)
        assert cluster.accepted > accepted, "webhooks are accepted again"
        now = {name: epoch for name, (_, epoch, _) in cluster.leases().items()}
        assert epochs == now, "modules should wait for the journal where they run"
        cluster.settled(timeout=30)
        _drain_and_check(cluster, load)
    finally:
        cluster.close()
        nats.stop()
