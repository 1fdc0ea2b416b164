"""``make demo-chain``: both chain examples on one engine against a fresh anvil.

Starts anvil on 127.0.0.1:8545 and a summary endpoint on 127.0.0.1:8790
(the addresses examples/chain.toml and the manifests name), runs
``cove run --config examples/chain.toml`` for a few seconds while it deploys
the example token, makes transfers and one reorg, then prints what each
module stored.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cove._keystore import new_key  # noqa: E402
from cove._sources._chain import state_key  # noqa: E402
from cove._store._sqlite import SqliteStore  # noqa: E402
from tests.helpers.anvil import Anvil, running_anvil  # noqa: E402
from tests.helpers.token import DEV, UNIT, deploy_token, transfer  # noqa: E402

DEMO = ROOT / ".cove" / "demo-chain"
PASSPHRASE_ENV = "COVE_DEMO_KEY_PASS"


def say(text: str) -> None:
    print(f"\033[1;35mdemo:\033[0m {text}", flush=True)


class Summaries(BaseHTTPRequestHandler):
    """The monitor's endpoint: prints each POSTed summary in one line."""

    def do_POST(self) -> None:
        summary = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        tokens = {a[:8]: int(b["token"] or 0) // UNIT for a, b in summary["balances"].items()}
        say(f"endpoint got a summary of block {summary['block']}: COVE {tokens}")
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def engine_ready(engine: subprocess.Popen[bytes], store_path: Path, timeout: float = 300) -> None:
    """Wait until the engine's chain source has taken its start position.

    The first run compiles both components (a minute on a busy machine); later
    runs load them from the cache.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine.poll() is not None:
            raise SystemExit(f"the engine exited with {engine.returncode}")
        if store_path.exists():
            store = SqliteStore(store_path)
            try:
                if store.source_state(state_key(31337)) is not None:
                    return
            finally:
                store.close()
        time.sleep(0.1)
    raise SystemExit(f"the engine did not start within {timeout:.0f} s")


def activity(node: Anvil) -> None:
    token = deploy_token(node)
    say(f"deployed CoveTestToken at {token} (1,000,000 COVE minted to {DEV[0]})")
    moves = [(0, 1, 500), (0, 2, 2_500), (1, 2, 100), (2, 1, 1_200)]
    for sender, receiver, amount in moves:
        time.sleep(0.7)
        say(f"transfer {amount} COVE {DEV[sender][:8]} -> {DEV[receiver][:8]}")
        transfer(node, token, DEV[sender], DEV[receiver], amount * UNIT)
    time.sleep(0.7)
    say("anvil_reorg: the last block (the 1200 COVE transfer) is replaced by an empty one")
    node.rpc("anvil_reorg", [1, []])


def report(store_path: Path) -> None:
    store = SqliteStore(store_path)
    try:
        say("what the modules stored:")
        for key in store.list_keys("erc20-watcher", "balance:"):
            balance = json.loads(store.get("erc20-watcher", key) or b"0")
            print(f"  erc20-watcher  {key} = {balance / UNIT:,.0f} COVE")
        for key in ("transfers",):
            print(f"  erc20-watcher  {key} = {(store.get('erc20-watcher', key) or b'').decode()}")
        alerts = store.list_keys("erc20-watcher", "alert:")
        print(f"  erc20-watcher  {len(alerts)} signed alerts kept")
        for key in ("checks", "last_post", "last"):
            value = (store.get("balance-monitor", key) or b"(unset)").decode()
            print(f"  balance-monitor {key} = {value}")
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="how long the engine runs")
    args = parser.parse_args()
    shutil.rmtree(DEMO / "data", ignore_errors=True)  # a fresh chain needs a fresh position
    env = {**os.environ, PASSPHRASE_ENV: os.environ.get(PASSPHRASE_ENV, "cove-demo")}
    if not (DEMO / "erc20-watcher.json").exists():
        key = new_key(DEMO, "erc20-watcher", env[PASSPHRASE_ENV])
        say(f"created the watcher's key {key.path.relative_to(ROOT)} ({key.address})")
    endpoint = ThreadingHTTPServer(("127.0.0.1", 8790), Summaries)
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    try:
        with running_anvil(port=8545) as node:
            say(f"anvil on {node.http_url}; starting the engine for {args.seconds:g} s")
            engine = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "cove"), "run", "--config", "chain.toml",
                 "--for", str(args.seconds)],
                cwd=ROOT / "examples",
                env=env,
            )  # fmt: skip
            try:
                engine_ready(engine, DEMO / "data" / "cove.db")
                activity(node)
                engine.wait()
            finally:
                if engine.poll() is None:
                    engine.terminate()
                    engine.wait()
    finally:
        endpoint.shutdown()
        endpoint.server_close()
    report(DEMO / "data" / "cove.db")


if __name__ == "__main__":
    main()
