"""Soak: one engine (`cove run`, a subprocess) under steady load and trouble for a set time.

Load: signed-in webhooks at a steady rate (1 in 20 re-sent with the same delivery id,
which must not count twice) and in bursts; a cron tick every second; blocks from anvil
(one a second). Modules: a native plugin (webhooks, ticks, blocks; a message per webhook
through a webhook transport to a local sink) and a wasm component (webhooks). Trouble:
both modules crash on purpose (the native one on the first attempt of every 97th webhook,
the wasm one on every 89th), anvil's RPC goes away for a while (a TCP proxy in front of
it is cut), the sink answers 503 for a while (the outbox retries), and the engine is
stopped and started again (SIGTERM) while the load goes on; the sender retries a refused
delivery with the same id, as a webhook sender does.

Checked, and printed as a table (exit 1 when a check fails):
- RSS and open fds flat: within each engine process, once its bounded caches are full (it
  has journaled RECENT_EVENTS, 20,000 events, and the warm-up is over; else after the
  warm-up, and the row says so), the median of the last three samples may exceed the
  first sample by at most RSS_GROWTH (15%) + RSS_SLACK
  (16 MiB), and the fewest open fds of the last three samples may exceed the fewest of
  the first three by at most FD_SLACK (8): the sender's pooled connections come and go,
  a leak raises the floor;
- disk bounded: the data directory's databases (cove.db and trajectories.db with their
  WALs) stay under DISK_BOUND (64 MiB) with the small retention this script configures;
- metrics sane: every sample finite and >= 0, every counter monotonic within a process,
  ``cove_modules`` summing to the modules loaded;
- no lost or doubled event: each module's webhook count equals the distinct deliveries
  the engine acknowledged, every one of them reached the sink (duplicates there are
  reported: delivery is at least once), the sink's outages show as delivery failures in
  the metrics, no block was handed over twice, ticks arrived.

Its parts live in bench/_soak/ (the sink; the run and its checks). Run from the repository
root (it borrows tests/helpers):
    PYTHONPATH=. .venv/bin/python bench/soak.py --duration 1800   (``--duration 120`` in the suite)
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from _common import BENCH, bench_guest, print_table
from _soak._run import Soak
from _soak._sink import Sink

from cove._manifest import sha256_pin
from tests.helpers.anvil import running_anvil
from tests.helpers.tcp_proxy import TcpProxy


def prepare(root: Path) -> None:
    shutil.copytree(BENCH / "assets" / "soak_native", root / "soak_native")
    _, wasm = bench_guest("soak_wasm")
    target = root / "soak_wasm"
    shutil.copytree(BENCH / "assets" / "soak_wasm", target)
    (target / "soak_wasm.wasm").write_bytes(wasm)
    toml = (target / "cove.toml").read_text()
    (target / "cove.toml").write_text(toml.replace("sha256:" + "0" * 64, sha256_pin(wasm)))


async def main(args: argparse.Namespace) -> int:
    with (
        tempfile.TemporaryDirectory(prefix="cove-soak-") as tmp,
        Sink().serving() as sink,
        running_anvil("--block-time", "1") as anvil,
    ):
        root = Path(tmp)
        proxy = TcpProxy(anvil.port)
        await proxy.listen()
        prepare(root)
        soak = Soak(args, root, sink, proxy, lambda: int(anvil.rpc("eth_blockNumber"), 16))
        soak.configure()
        try:
            await soak.run()
            rows = soak.verdict()
        finally:
            if soak.process is not None and soak.process.returncode is None:
                soak.process.kill()
            await proxy.cut()
        log_size = (root / "engine.log").stat().st_size
    print_table(
        f"soak: {args.duration:.0f} s, {soak.sent} webhooks sent ({soak.duplicates_sent} re-sent ids, "
        f"{soak.refused} refused and retried), {soak.bursts} bursts of {args.burst}, "
        f"{soak.outages} RPC outages of {args.outage_for:.0f} s, "
        f"{soak.sink_outages} sink outages of {args.sink_outage_for:.0f} s, {soak.restarts} engine restarts "
        f"({soak.start_retries} starts retried on other ports), "
        f"engine log {log_size / 2**20:.1f} MiB",
        rows,
        ("check", "figure", "verdict"),
    )
    return 0 if all(row[2] == "ok" for row in rows) else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=1800, help="seconds of load")
    parser.add_argument("--rate", type=float, default=40, help="steady webhooks per second")
    parser.add_argument("--burst", type=int, default=400, help="webhooks per burst")
    parser.add_argument("--burst-every", type=float, default=60)
    parser.add_argument(
        "--outage-every", type=float, default=120, help="seconds between RPC outages"
    )
    parser.add_argument("--outage-for", type=float, default=10, help="seconds an RPC outage lasts")
    parser.add_argument(
        "--sink-outage-every", type=float, default=300, help="seconds between sink outages"
    )
    parser.add_argument(
        "--sink-outage-for", type=float, default=20, help="seconds the sink answers 503"
    )
    parser.add_argument("--restart-every", type=float, default=600, help="seconds between restarts")
    parser.add_argument("--sample-every", type=float, default=2)
    parser.add_argument("--warmup", type=float, default=30, help="seconds before RSS counts")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
