"""``make demo-negotiation``: the negotiation example end to end, as an operator runs it.

Starts a nostr-relay on 127.0.0.1:7447 (the relay examples/negotiation/engine.toml
names), creates the buyer's and the seller's keys once (under
.cove/negotiation/keys), builds both agents, runs the engine, opens the
negotiation with the buyer's tool, approves the buyer's held first DM with
``cove approvals approve`` and prints what each agent ended with and what
the relay stored. Every command it runs is printed with its output.
``--messages-per-hour 2`` runs it with a smaller budget: the buyer stops.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.nostr_relay import Relay  # noqa: E402

EXAMPLE = ROOT / "examples" / "negotiation"
DEMO = ROOT / ".cove" / "negotiation"
KEYS = DEMO / "keys"
URL = "http://127.0.0.1:8789"
COVE = str(ROOT / ".venv" / "bin" / "cove")
ENV = {
    **os.environ,
    "BUYER_KEY_PASS": os.environ.get("BUYER_KEY_PASS", "buyer-demo"),
    "SELLER_KEY_PASS": os.environ.get("SELLER_KEY_PASS", "seller-demo"),
    "COVE_URL": URL,
    "COLUMNS": "120",
}


def say(text: str) -> None:
    print(f"\033[1;35mdemo:\033[0m {text}", flush=True)


def cove(*args: str, show: bool = True) -> str:
    """Run one cove command as the operator would; its output, printed."""
    run = subprocess.run([COVE, *args], env=ENV, capture_output=True, text=True, cwd=ROOT)
    if show:
        print(f"$ cove {' '.join(args)}\n{run.stdout}{run.stderr}", end="", flush=True)
    if run.returncode != 0:
        raise SystemExit(f"cove {args[0]} exited with {run.returncode}: {run.stderr}")
    return run.stdout


def keys() -> str:
    """Both keys (made on the first run); the seller's npub."""
    for name in ("buyer", "seller"):
        if not (KEYS / f"{name}.json").exists():
            cove(
                "key",
                "new",
                name,
                "--dir",
                str(KEYS),
                "--passphrase-env",
                f"{name.upper()}_KEY_PASS",
            )
    listed = cove("key", "list", "--dir", str(KEYS))
    [seller] = [line.split()[-1] for line in listed.splitlines() if line.startswith("seller ")]
    return seller


def config(messages_per_hour: int | None) -> Path:
    """The example's engine config; with a budget given, a copy beside it that says so."""
    path = EXAMPLE / "engine.toml"
    if messages_per_hour is None:
        return path
    variant = EXAMPLE / f"engine-{messages_per_hour}-per-hour.toml"
    text = path.read_text().replace(
        "messages_per_hour = 20", f"messages_per_hour = {messages_per_hour}"
    )
    variant.write_text(text)
    return variant


def wait(what: str, done: Callable[[], bool], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)


def quietly(*args: str) -> str | None:
    run = subprocess.run([COVE, *args], env=ENV, capture_output=True, text=True, cwd=ROOT)
    return run.stdout if run.returncode == 0 else None


def negotiate(seller: str) -> None:
    cove("tool", "call", "buyer.open", "-a", f"seller={seller}")
    wait("the held DM", lambda: "buyer" in (quietly("approvals", "list") or ""))
    listed = cove("approvals", "list", "--json", show=False)
    cove("approvals", "list")
    [held] = json.loads(listed)["approvals"]
    cove("state", "get", "buyer", "negotiation")
    cove("approvals", "approve", str(held["id"]))

    def finished() -> bool:
        deal = json.loads(quietly("state", "get", "buyer", "negotiation") or "{}")
        return deal.get("status") not in (None, "open")

    wait("the outcome", finished)
    time.sleep(1)  # the buyer's last DM reaches the seller
    cove("state", "get", "buyer", "negotiation")
    for key in cove("state", "list", "seller", show=False).split():
        cove("state", "get", "seller", key)


async def stored(relay: Relay) -> None:
    events = await relay.query({"kinds": [4]})
    say(f"the relay stored {len(events)} DMs; what it can read of them:")
    for event in sorted(events, key=lambda e: e["created_at"]):
        print(
            f"  from {event['pubkey'][:12]}… to {event['tags'][0][1][:12]}…  {event['content'][:48]}…"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages-per-hour", type=int, help="the buyer's budget (default: 20)")
    args = parser.parse_args()
    shutil.rmtree(DEMO / "data", ignore_errors=True)  # a fresh negotiation
    shutil.rmtree(DEMO / "relay", ignore_errors=True)
    (DEMO / "relay").mkdir(parents=True)
    seller = keys()
    for agent in ("buyer", "seller"):
        cove("build", str(EXAMPLE / agent), show=False)
    path = config(args.messages_per_hour)
    relay = Relay(DEMO / "relay", port=7447)
    relay.start()
    say(f"nostr-relay on {relay.url}; starting the engine ({path.relative_to(ROOT)})")
    log = (DEMO / "engine.log").open("w")
    engine = subprocess.Popen([COVE, "run", "--config", str(path)], env=ENV, stdout=log, stderr=log)
    try:
        wait("the engine", lambda: engine.poll() is None and quietly("health") is not None)
        negotiate(seller)
        asyncio.run(stored(relay))
    finally:
        engine.terminate()
        engine.wait()
        relay.stop()
        log.close()
        if path.name != "engine.toml":
            path.unlink()
    say(f"the engine's log: {(DEMO / 'engine.log').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
