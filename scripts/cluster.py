"""`make cluster`: three engines sharing the example modules on a local PostgreSQL.

A PostgreSQL server in a temp dir on a loopback port (tests/helpers/postgres.py: Debian's
binaries, `make postgres`), then three `cove run --demo` processes, each with a
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

from tests.helpers.postgres import PostgresServer  # noqa: E402

ENGINES = 3
PASSWORD_ENV = "COVE_CLUSTER_PG_PASSWORD"
MODULES = [ROOT / "examples" / "counter", ROOT / "examples" / "auto_reply"]


def _config(where: Path, dsn: str, index: int) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    modules = ", ".join(f'"{m}"' for m in MODULES)
    (where / "engine.toml").write_text(
        f'data_dir = "{where / "data"}"\nmodules = [{modules}]\nlog_format = "console"\n'
        f'[store]\nkind = "postgres"\ndsn = "{dsn}"\npassword_secret = "pg"\n'
        f'[secrets.pg]\nenv = "{PASSWORD_ENV}"\n'
        f'[cluster]\nengine_id = "engine-{index}"\n'
        f'[control]\nhost = "127.0.0.1"\nport = {8791 + index}\n'
        f'token_file = "{where / "control.token"}"\ncreate_token = true\n'
    )
    return where / "engine.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (0: Ctrl-C)")
    args = parser.parse_args()
    server = PostgresServer()
    server.start()
    env = {**os.environ, PASSWORD_ENV: server.password}
    dsn = server.database()
    print(f"postgresql on 127.0.0.1:{server.port}, database {dsn.rsplit('/', 1)[1]}")
    procs = []
    try:
        for i in range(ENGINES):
            config = _config(ROOT / ".cove" / "cluster" / f"engine-{i}", dsn, i)
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


if __name__ == "__main__":
    main()
