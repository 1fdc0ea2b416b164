"""Chain source figures on a real anvil: block-to-handler latency and log backfill rate.

Latency: an engine with a native plugin subscribed to blocks; each block is
mined alone and the plugin notes the wall time it handled it (p50/p99 of
handle time minus the time the mine call was sent). Two engines in the same
run, on the same anvil: one woken by a WebSocket ``newHeads`` subscription,
one polling the head over HTTP every ``--poll``. Target (issue 4): p99 ≤ 50 ms.

Backfill: ``--blocks`` blocks of which ``--logs`` carry one log each, read
from scratch by cove's source (block batches + windowed eth_getLogs), against
two plain web3.py readers in the same run: the loop most scripts write
(``get_block`` and ``get_logs`` block by block), and ``get_logs`` over
windows of ``--window`` blocks (the fastest plain web3.py way, without
cove's block headers).

Run: .venv/bin/python bench/chain.py [--samples 200] [--poll 10ms] [--blocks 10000] [--logs 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _common import print_table
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cove import Engine, Event, load_config
from cove._config_chain import ChainSettings
from cove._sources._chain import ChainSource, Stream, log_filter
from tests.helpers.anvil import Anvil, running_anvil

DEV = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
EMITTER_INIT = "0x6860003560006000a10060005260096017f3"  # LOG1(topic = calldata word)

PLUGIN = """
import time
from cove import Plugin

HANDLED = {}


class Stamp(Plugin):
    def handle_event(self, event, ctx):
        HANDLED[event.payload.number] = time.time()
        return []
"""


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def latency(anvil: Anvil, samples: int, poll: str, *, ws: bool) -> list[float]:
    name = "stamp_ws" if ws else "stamp_poll"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        module = root / name
        module.mkdir()
        (module / f"{name}.py").write_text(PLUGIN)
        (module / "cove.toml").write_text(
            f'[module]\nname = "{name}"\nversion = "0.1.0"\nkind = "python"\n'
            f'entry = "{name}:Stamp"\n\n[[subscription]]\nkind = "block"\nchain_id = 31337\n'
        )
        endpoint = f'ws = "{anvil.ws_url}"\n' if ws else ""
        (root / "engine.toml").write_text(
            f'data_dir = "{root / "data"}"\nmodules = ["{module}"]\n'
            f'[[chains]]\nchain_id = 31337\nhttp = "{anvil.http_url}"\npoll_interval = "{poll}"\n'
            + endpoint
        )
        engine = Engine(load_config(root / "engine.toml"))
        await engine.start()
        try:
            (handled,) = [
                m.HANDLED
                for module_name, m in sys.modules.items()
                if module_name.endswith(name) and hasattr(m, "HANDLED")
            ]
            if ws:
                (source,) = [s for s in engine.sources if isinstance(s, ChainSource)]
                while source.heads is None or not source.heads.connected:
                    await asyncio.sleep(0.01)
            loop = asyncio.get_running_loop()
            out = []
            for _ in range(samples):
                mined_at = time.time()
                number = await loop.run_in_executor(None, anvil.mine, 1)
                while number not in handled:
                    await asyncio.sleep(0.0005)
                out.append((handled[number] - mined_at) * 1000)
            return out
        finally:
            await engine.stop()


def prepare_logs(anvil: Anvil, blocks: int, logs: int) -> tuple[str, int, int]:
    tx = anvil.rpc("eth_sendTransaction", [{"from": DEV, "data": EMITTER_INIT}])
    contract = str(anvil.receipt(tx)["contractAddress"]).lower()
    start = int(anvil.rpc("eth_blockNumber"), 16)
    every = max(1, blocks // logs)
    for i in range(logs):
        tx = anvil.rpc(
            "eth_sendTransaction", [{"from": DEV, "to": contract, "data": f"0x{i:064x}"}]
        )
        anvil.receipt(tx)
        anvil.mine(every - 1) if every > 1 else None
    end = int(anvil.rpc("eth_blockNumber"), 16)
    if end - start < blocks:
        end = anvil.mine(blocks - (end - start))
    return contract, start, end


class Progress:
    """A saved position at block ``start`` (the source's progress format)."""

    def __init__(self, start: dict[str, str]) -> None:
        header = [int(start["number"], 16), start["hash"], start["parentHash"], 0]
        saved = {"history": [header], "logs": {}, "delivered": {"0": header[0]}}
        self.values = {"chain:31337": json.dumps(saved)}

    def source_state(self, source: str) -> str | None:
        return self.values.get(source)

    def set_source_state(self, source: str, value: str) -> None:
        self.values[source] = value


async def cove_backfill(anvil: Anvil, contract: str, start: int, end: int) -> tuple[float, int]:
    saved = anvil.rpc("eth_getBlockByNumber", [hex(start), False])
    seen: list[Event] = []
    done = asyncio.Event()

    async def publish(events: Sequence[Event]) -> None:
        seen.extend(events)
        if any(getattr(e.payload, "number", None) == end for e in events):
            done.set()

    settings = ChainSettings(chain_id=31337, http=anvil.http_url)
    streams = [Stream(0, blocks=True, filters=(log_filter(contract, []),))]
    source = ChainSource(settings, Progress(saved), streams)
    began = time.perf_counter()
    task = asyncio.create_task(source.run(publish))
    await done.wait()
    elapsed = time.perf_counter() - began
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return elapsed, sum(1 for e in seen if e.kind == "log")


def web3_loop(anvil: Anvil, contract: str, start: int, end: int) -> tuple[float, int]:
    """The plain web3.py loop: each block's header and logs, one block at a time."""
    w3 = Web3(Web3.HTTPProvider(anvil.http_url))
    address = Web3.to_checksum_address(contract)
    found = 0
    began = time.perf_counter()
    for number in range(start + 1, end + 1):
        w3.eth.get_block(number)
        found += len(w3.eth.get_logs({"fromBlock": number, "toBlock": number, "address": address}))
    return time.perf_counter() - began, found


def web3_windows(
    anvil: Anvil, contract: str, start: int, end: int, window: int
) -> tuple[float, int]:
    """web3.py ``get_logs`` over block windows: logs only, no headers."""
    w3 = Web3(Web3.HTTPProvider(anvil.http_url))
    address = Web3.to_checksum_address(contract)
    found = 0
    began = time.perf_counter()
    for low in range(start + 1, end + 1, window):
        high = min(end, low + window - 1)
        found += len(w3.eth.get_logs({"fromBlock": low, "toBlock": high, "address": address}))
    return time.perf_counter() - began, found


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--poll", default="10ms")
    parser.add_argument("--blocks", type=int, default=10_000)
    parser.add_argument("--logs", type=int, default=1_000)
    parser.add_argument("--window", type=int, default=2_000)
    args = parser.parse_args()
    with running_anvil() as anvil:
        ws = await latency(anvil, args.samples, args.poll, ws=True)
        poll = await latency(anvil, args.samples, args.poll, ws=False)
        rows = []
        for label, lat in (("newHeads (ws)", ws), (f"HTTP poll every {args.poll}", poll)):
            p50, p99 = percentile(lat, 0.5), percentile(lat, 0.99)
            ratios = f"{percentile(poll, 0.5) / p50:.2f}x, {percentile(poll, 0.99) / p99:.2f}x"
            rows.append((label, f"{p50:.1f}", f"{p99:.1f}", f"{max(lat):.1f}", ratios))
        print_table(
            f"block-to-handler latency, {args.samples} blocks each (ms)",
            rows,
            ("woken by", "p50", "p99", "max", "poll ÷ this (p50, p99)"),
        )
        contract, start, end = await asyncio.to_thread(prepare_logs, anvil, args.blocks, args.logs)
        cove_s, cove_logs = await cove_backfill(anvil, contract, start, end)
        loop_s, loop_logs = await asyncio.to_thread(web3_loop, anvil, contract, start, end)
        win_s, win_logs = await asyncio.to_thread(
            web3_windows, anvil, contract, start, end, args.window
        )
        blocks = end - start
        print_table(
            f"backfill of {blocks} blocks with logs",
            [
                (label, f"{secs:.2f}", f"{blocks / secs:,.0f}", str(logs), f"{secs / cove_s:.1f}x")
                for label, secs, logs in (
                    ("cove source (headers + logs)", cove_s, cove_logs),
                    ("web3.py per-block loop", loop_s, loop_logs),
                    (f"web3.py get_logs, {args.window}-block windows", win_s, win_logs),
                )
            ],
            ("reader", "seconds", "blocks/s", "logs", "time ÷ cove"),
        )


if __name__ == "__main__":
    asyncio.run(main())
