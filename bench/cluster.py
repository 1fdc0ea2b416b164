"""Engines sharing modules ([cluster]) against the single-process SQLite engine, one run.

Also the single process on PostgreSQL without [cluster]: what the cluster itself costs, and
the cluster with its journal on NATS JetStream ([cluster] journal = "jetstream") against the
cluster with the PostgreSQL journal, in the same run.

Figures (issue 19, step 6), each scenario on six native modules that count every event in
state and send one effect each:
  * burst: events/s from the first publish until every module's effect of every event
    was delivered (journal -> handle -> commit -> outbox), the load split across engines;
  * per-engine efficiency: a cluster's burst rate / (engines x the one-engine cluster's);
  * publish -> effect p50/p99 ms at a steady rate spread over the engines;
  * failover (``--kills``): SIGKILL of a random engine of three -> the first event handled
    by a survivor under the new lease, p50/p99 over the kills (each engine restarted).
Every engine is a process of its own; PostgreSQL and nats-server are servers the script
starts on loopback ports (tests/helpers/postgres.py, tests/helpers/nats.py). On a 2-core machine three engines and the
database share two cores: scaling is bounded by that, not by the leases.

Run: .venv/bin/python bench/cluster.py [--events 3000] [--rate 100] [--seconds 5] [--kills 20]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import BENCH, print_table

sys.path.insert(0, str(BENCH.parent))  # the test suite's PostgreSQL launcher and cluster

import psycopg

from tests.helpers.nats import NatsServer
from tests.helpers.postgres import PostgresServer

PASSWORD_ENV = "COVE_TEST_PG_PASSWORD"
MODULES = 6


def _modules(tmp: Path) -> list[Path]:
    out = []
    for i in range(MODULES):
        target = tmp / f"s{i}"
        shutil.copytree(BENCH / "assets" / "stamp", target)
        manifest = target / "cove.toml"
        manifest.write_text(manifest.read_text().replace('name = "stamp"', f'name = "s{i}"'))
        out.append(target)
    return out


def _config(
    tmp: Path, modules: list[Path], store: str, engine_id: str | None, journal: str = ""
) -> Path:
    where = tmp / (engine_id or "single")
    where.mkdir()
    text = f'data_dir = "{where / "data"}"\nmodules = {[str(m) for m in modules]!r}\n'.replace(
        "'", '"'
    )
    text += '[commit]\nmode = "batched"\nmax_delay = "10ms"\n' + store
    if engine_id is not None:
        text += f'[cluster]\nengine_id = "{engine_id}"\nlease_ttl = "3s"\nrenew_every = "1s"\n'
        text += journal
    (where / "engine.toml").write_text(text)
    return where / "engine.toml"


def _lines(files: list[Path], phase: str) -> list[float]:
    out = []
    for path in files:
        if path.exists():
            for line in path.read_text().splitlines():
                kind, _, ms = line.partition(" ")
                if kind == phase and ms:
                    out.append(float(ms))
    return out


def _settled(dsn: str, password: str, engines: int) -> None:
    deadline = time.monotonic() + 60
    with psycopg.connect(dsn, password=password, autocommit=True) as db:
        while time.monotonic() < deadline:
            rows = db.execute(
                "SELECT engine FROM leases WHERE name NOT LIKE 'role:%' AND expires_ms > "
                "(extract(epoch from clock_timestamp()) * 1000)::bigint"
            ).fetchall()
            if len(rows) == MODULES and len({r[0] for r in rows}) == engines:
                return
            time.sleep(0.1)
    raise SystemExit("the cluster did not settle")


def scenario(
    tmp: Path,
    server: PostgresServer | None,
    engines: int,
    args: argparse.Namespace,
    nats: NatsServer | None = None,
) -> tuple[float, list[float]]:
    """(burst events/s, steady publish->effect latencies in ms); ``nats``: the journal on
    JetStream (a stream of its own per scenario)."""
    modules = _modules(tmp / "modules")
    go = tmp / "go"
    go.mkdir()
    dsn = ""
    if server is None:
        configs = [_config(tmp, modules, "", None)]
    else:
        dsn = server.database()
        store = (
            f'[store]\nkind = "postgres"\ndsn = "{dsn}"\npassword_secret = "pg"\n'
            f'[secrets.pg]\nenv = "{PASSWORD_ENV}"\n'
        )
        if engines == 0:  # the same database, no [cluster]: what the cluster itself costs
            configs = [_config(tmp, modules, store, None)]
        else:
            journal = ""
            if nats is not None:
                stream = f"bench{tmp.name}".replace(" ", "")
                journal = f'journal = "jetstream"\nnats_url = "{nats.url}"\nstream = "{stream}"\n'
            configs = [_config(tmp, modules, store, f"e{i}", journal) for i in range(engines)]
    outs = [c.parent / "effects.txt" for c in configs]
    burst, rate = args.events // len(configs), args.rate / len(configs)
    procs = []
    for config, out in zip(configs, outs, strict=True):
        argv = [sys.executable, str(BENCH / "_cluster_engine.py"), str(config), str(out), str(go)]
        argv += [str(burst), str(rate), str(args.seconds)]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "started"
        procs.append(proc)
    try:
        if server is not None and engines:
            _settled(dsn, server.password, engines)
        total = burst * len(configs) * MODULES
        (go / "burst").touch()
        start = time.perf_counter()
        while len(_lines(outs, "burst")) < total:
            time.sleep(0.02)
        took = time.perf_counter() - start
        (go / "steady").touch()
        time.sleep(args.seconds)
        expected = int(rate * args.seconds) * len(configs) * MODULES
        deadline = time.monotonic() + 30
        while len(_lines(outs, "steady")) < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        return burst * len(configs) / took, _lines(outs, "steady")
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def failover(
    tmp: Path, server: PostgresServer, kills: int, nats: NatsServer | None = None
) -> list[float]:
    from tests.integration.test_cluster_failover import ENGINES, Cluster

    cluster = Cluster(tmp, server, nats)
    rng = random.Random(7)
    took = []
    try:
        for i in range(ENGINES):
            cluster.start(i)
        for _ in range(kills):
            cluster.settled()
            time.sleep(rng.uniform(0.2, 1.0))
            took.append(cluster.fail(rng.randrange(ENGINES), signal.SIGKILL))
    finally:
        cluster.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=3000, help="burst events (all engines)")
    parser.add_argument("--rate", type=float, default=100, help="steady events/s (all engines)")
    parser.add_argument("--seconds", type=float, default=5, help="steady phase length")
    parser.add_argument("--kills", type=int, default=20, help="failover kills (0: none)")
    args = parser.parse_args()
    server = PostgresServer()
    server.start()
    nats = NatsServer()
    nats.start()
    os.environ[PASSWORD_ENV] = server.password
    rows: list[tuple[str, ...]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="cove-bench-cluster-") as root:
            results = {}
            for name, engines in (
                ("sqlite, one process", 0),
                ("postgres, one process", 0),
                *(("cluster", n) for n in (1, 2, 3)),
                *(("cluster, jetstream", n) for n in (1, 3)),
            ):
                tmp = Path(root) / f"{name.replace(', ', '')}{engines}"
                tmp.mkdir()
                pg = None if name.startswith("sqlite") else server
                js = nats if name.endswith("jetstream") else None
                results[(name, engines)] = scenario(tmp, pg, engines, args, js)
            base = results[("sqlite, one process", 0)][0]
            for (name, engines), (rate, latencies) in results.items():
                one = results.get((name, 1), (rate, []))[0]
                efficiency = "-" if engines == 0 else f"{rate / (engines * one):.2f}"
                rows.append((name, str(max(engines, 1)), f"{rate:,.0f}", f"{rate / base:.2f}x",
                             efficiency, f"{_pct(latencies, 0.5):.1f}", f"{_pct(latencies, 0.99):.1f}",
                             str(len(latencies))))  # fmt: skip
            print_table(
                f"{MODULES} modules, burst of {args.events} events, steady {args.rate:.0f} ev/s",
                rows,
                ("setup", "engines", "burst ev/s", "vs sqlite", "per-engine eff.",
                 "p50 ms", "p99 ms", "effects"),
            )  # fmt: skip
            if args.kills:
                failed: list[tuple[str, ...]] = []
                for journal, js in (("postgres", None), ("jetstream", nats)):
                    fail_dir = Path(root) / f"failover-{journal}"
                    fail_dir.mkdir()
                    took = failover(fail_dir, server, args.kills, js)
                    failed.append((journal, f"{statistics.median(took):.2f}",
                                   f"{_pct(took, 0.99):.2f}", f"{max(took):.2f}"))  # fmt: skip
                print_table(
                    f"failover over {args.kills} kills (SIGKILL -> first event on a survivor)",
                    failed,
                    ("journal", "p50 s", "p99 s", "max s"),
                )
    finally:
        nats.stop()
        server.stop()


if __name__ == "__main__":
    main()
