"""Chain source figures on a real anvil: block-to-handler latency, log burst and backfill rate.

Latency: an engine with a native plugin subscribed to blocks, through the
durable path (journal, handler, commit); ``--samples`` blocks are mined one
at a time at random 50-100 ms intervals and the plugin notes the wall time
it handled each (p50/p99 of handle time minus the time the mine call was
sent). Beside it in the same run, on the same anvil and the same blocks, a
bare ``websockets`` newHeads subscriber notes when each header reached it:
the floor any newHeads reader pays. Then an engine polling the head over
HTTP every ``--poll``. Targets (issue 16): p50 ≤ 5 ms, p99 ≤ 10 ms over newHeads.

Burst: ``--burst`` logs mined in a few blocks at once reach a native plugin
subscribed to them; logs/s from the mined blocks (the mine call's answer) to
the last one handled,
against a bare windowed ``eth_getLogs`` of the same blocks (httpx, raw JSON)
in the same run. Target: ≥ 15,000 logs/s, nothing lost.

Backfill: ``--blocks`` blocks of which ``--logs`` carry one log each, read
from a saved position by cove's source (logs only, and with block events),
against bare windowed ``eth_getLogs`` loops over httpx (``--window`` blocks,
and the source's widest window, 10,000) and web3.py's ``get_logs`` over the
same windows; each reader once per round for ``--rounds`` rounds in a
rotated order, the median reported, and each ratio the median of the
per-round ratios (a run is 30-80 ms, so one figure is mostly noise). With
``--skip-loop`` unset, the per-block web3.py loop once (the loop most
scripts write). Target (issue 16): logs only ≤ 1.5x the bare loop.

Records: one log's ``Log`` and ``Event`` built per call (bench/_chain_records.py).

Run: .venv/bin/python bench/chain.py [--samples 600] [--poll 10ms] [--blocks 10000] [--logs 1000]
     [--rounds 15] [--only latency|burst|backfill|records] [--against REV]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from _chain_records import records_table
from _common import print_table
from fast_path import package_at
from web3 import Web3
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cove import Engine, load_config
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

LOG_PLUGIN = """
import time
from cove import Plugin

HANDLED = []


class Count(Plugin):
    def handle_event(self, event, ctx):
        HANDLED.append(time.time())
        return []
"""


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def write_engine(
    root: Path, anvil: Anvil, name: str, plugin: str, entry: str, subscription: str, chain: str
) -> Path:
    """An engine config with one native plugin module under ``root``."""
    module = root / name
    module.mkdir()
    (module / f"{name}.py").write_text(plugin)
    (module / "cove.toml").write_text(
        f'[module]\nname = "{name}"\nversion = "0.1.0"\nkind = "python"\n'
        f'entry = "{name}:{entry}"\n\n[[subscription]]\n{subscription}'
    )
    (root / "engine.toml").write_text(
        f'data_dir = "{root / "data"}"\nmodules = ["{module}"]\n'
        f'[[chains]]\nchain_id = 31337\nhttp = "{anvil.http_url}"\n{chain}'
    )
    return root / "engine.toml"


def handled_by(name: str) -> object:
    """The plugin module's ``HANDLED`` (the engine imported it under its own name)."""
    (handled,) = [
        m.HANDLED
        for module_name, m in sys.modules.items()
        if module_name.endswith(name) and hasattr(m, "HANDLED")
    ]
    return handled


async def bare_newheads(anvil: Anvil, seen: dict[int, float], ready: asyncio.Event) -> None:
    """A bare newHeads subscriber: the time each header reaches a plain websockets client."""
    async with connect(anvil.ws_url) as socket:
        await socket.send(
            json.dumps(
                {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}
            )
        )
        await socket.recv()
        ready.set()
        async for message in socket:
            header = json.loads(message)["params"]["result"]
            seen[int(header["number"], 16)] = time.time()


async def latency(
    anvil: Anvil, samples: int, poll: str, *, ws: bool
) -> tuple[list[float], list[float]]:
    """Mine ``samples`` blocks at 50-100 ms intervals; per block, ms from the mine call to the
    handler, and (with ``ws``) to a bare newHeads subscriber in the same run."""
    name = "stamp_ws" if ws else "stamp_poll"
    with tempfile.TemporaryDirectory() as tmp:
        chain = f'poll_interval = "{poll}"\n' + (f'ws = "{anvil.ws_url}"\n' if ws else "")
        config = write_engine(
            Path(tmp), anvil, name, PLUGIN, "Stamp", 'kind = "block"\nchain_id = 31337\n', chain
        )
        engine = Engine(load_config(config))
        await engine.start()
        bare: dict[int, float] = {}
        ready = asyncio.Event()
        subscriber = asyncio.create_task(bare_newheads(anvil, bare, ready)) if ws else None
        try:
            handled = handled_by(name)
            assert isinstance(handled, dict)
            if ws:
                (source,) = [s for s in engine.sources if isinstance(s, ChainSource)]
                while source.heads is None or not source.heads.connected:
                    await asyncio.sleep(0.01)
                await ready.wait()
            loop = asyncio.get_running_loop()
            mined: dict[int, float] = {}
            for _ in range(samples):
                at = time.time()
                mined[await loop.run_in_executor(None, anvil.mine, 1)] = at
                await asyncio.sleep(random.uniform(0.05, 0.1))
            while not set(mined) <= set(handled):
                await asyncio.sleep(0.01)
            out = [(handled[n] - at) * 1000 for n, at in mined.items()]
            floor = [(bare[n] - at) * 1000 for n, at in mined.items() if n in bare]
            return out, floor
        finally:
            if subscriber is not None:
                subscriber.cancel()
                await asyncio.gather(subscriber, return_exceptions=True)
            await engine.stop()


async def burst(anvil: Anvil, count: int, window: int) -> tuple[float, int, float, int]:
    """``count`` logs mined at once: (seconds until the plugin handled the last, logs handled,
    seconds for a bare windowed eth_getLogs of the same blocks, logs it found)."""
    tx = anvil.rpc("eth_sendTransaction", [{"from": DEV, "data": EMITTER_INIT}])
    contract = str(anvil.receipt(tx)["contractAddress"]).lower()
    with tempfile.TemporaryDirectory() as tmp:
        subscription = f'kind = "log"\nchain_id = 31337\naddress = "{contract}"\n'
        chain = f'ws = "{anvil.ws_url}"\n'
        config = write_engine(Path(tmp), anvil, "burst", LOG_PLUGIN, "Count", subscription, chain)
        engine = Engine(load_config(config))
        await engine.start()
        try:
            handled = handled_by("burst")
            assert isinstance(handled, list)
            (source,) = [s for s in engine.sources if isinstance(s, ChainSource)]
            tip = int(anvil.rpc("eth_blockNumber"), 16)
            while source.position != tip:
                await asyncio.sleep(0.01)
            anvil.rpc("evm_setAutomine", [False])
            try:
                for i in range(count):
                    call = {"from": DEV, "to": contract, "data": f"0x{i:064x}", "gas": "0x8000"}
                    anvil.rpc("eth_sendTransaction", [call])
                end = anvil.mine(max(1, count // 1_000))
                began = time.time()  # the blocks exist: from here on it is the reader's time
            finally:
                anvil.rpc("evm_setAutomine", [True])
            while len(handled) < count and time.time() - began < 120:
                await asyncio.sleep(0.001)
            cove_s = max(handled) - began if handled else float("inf")
            got = len(handled)
        finally:
            await engine.stop()
    bare_s, found = await raw_windows(anvil, contract, tip, end, window)
    return cove_s, got, bare_s, found


def prepare_logs(anvil: Anvil, blocks: int, logs: int) -> tuple[str, int, int]:
    """``blocks`` new blocks, one log every ``blocks // logs``: automine off, each log's
    transaction mined with ``anvil_mine`` (no receipt polling), so a large range is quick."""
    tx = anvil.rpc("eth_sendTransaction", [{"from": DEV, "data": EMITTER_INIT}])
    contract = str(anvil.receipt(tx)["contractAddress"]).lower()
    start = int(anvil.rpc("eth_blockNumber"), 16)
    every = max(1, blocks // logs)
    anvil.rpc("evm_setAutomine", [False])
    try:
        for i in range(logs):
            call = {"from": DEV, "to": contract, "data": f"0x{i:064x}", "gas": "0x8000"}
            anvil.rpc("eth_sendTransaction", [call])
            anvil.rpc("anvil_mine", [hex(every)])
    finally:
        anvil.rpc("evm_setAutomine", [True])
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


async def cove_backfill(
    anvil: Anvil, contract: str, start: int, end: int, *, blocks: bool, cove: Any = None
) -> tuple[float, int]:
    """cove's source from a saved position at ``start`` to ``end``: (seconds, logs published);
    ``blocks``: a subscriber wants block events too (every header is read); ``cove``: the
    package to take the source from (``--against``), else this checkout's."""
    saved = anvil.rpc("eth_getBlockByNumber", [hex(start), False])
    seen: list[Any] = []

    async def publish(events: Sequence[Any]) -> None:
        seen.extend(events)

    chain = ChainModules(cove)
    settings = chain.ChainSettings(chain_id=31337, http=anvil.http_url)
    streams = [chain.Stream(0, blocks=blocks, filters=(chain.log_filter(contract, []),))]
    source = chain.ChainSource(settings, Progress(saved), streams)
    began = time.perf_counter()
    task = asyncio.create_task(source.run(publish))
    while source.position != end:
        await asyncio.sleep(0.001)
    elapsed = time.perf_counter() - began
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return elapsed, sum(1 for e in seen if e.kind == "log")


class ChainModules:
    """The chain source's classes from this checkout, or from a package ``package_at`` made."""

    def __init__(self, package: str | None) -> None:
        if package is None:
            self.ChainSettings: Any = ChainSettings
            self.ChainSource: Any = ChainSource
            self.Stream: Any = Stream
            self.log_filter: Any = log_filter
            return
        config = importlib.import_module(f"{package}._config_chain")
        source = importlib.import_module(f"{package}._sources._chain")
        self.ChainSettings, self.ChainSource = config.ChainSettings, source.ChainSource
        self.Stream, self.log_filter = source.Stream, source.log_filter


async def raw_windows(
    anvil: Anvil, contract: str, start: int, end: int, window: int
) -> tuple[float, int]:
    """A bare windowed ``eth_getLogs`` loop over httpx (raw JSON, no headers), timed from
    opening its client, as cove's source is timed from its start (which opens one)."""
    found = 0
    began = time.perf_counter()
    async with httpx.AsyncClient() as client:
        for low in range(start + 1, end + 1, window):
            query = {
                "address": contract,
                "fromBlock": hex(low),
                "toBlock": hex(min(end, low + window - 1)),
            }
            body = {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [query]}
            found += len((await client.post(anvil.http_url, json=body)).json()["result"])
    return time.perf_counter() - began, found


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


def latency_row(label: str, values: list[float], floor: list[float]) -> tuple[str, ...]:
    p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
    ratio = (
        ""
        if not floor
        else f"{p50 / percentile(floor, 0.5):.2f}x, {p99 / percentile(floor, 0.99):.2f}x"
    )
    return (label, str(len(values)), f"{p50:.1f}", f"{p99:.1f}", f"{max(values):.1f}", ratio)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--samples", type=int, default=600)
    parser.add_argument("--poll-samples", type=int, default=200)
    parser.add_argument("--poll", default="10ms")
    parser.add_argument("--burst", type=int, default=5_000)
    parser.add_argument("--blocks", type=int, default=10_000)
    parser.add_argument("--logs", type=int, default=1_000)
    parser.add_argument("--window", type=int, default=2_000)
    parser.add_argument("--skip-loop", action="store_true", help="skip the per-block web3.py loop")
    parser.add_argument(
        "--rounds", type=int, default=15, help="backfill: alternating rounds (medians)"
    )
    parser.add_argument(
        "--only",
        choices=["latency", "burst", "backfill", "records"],
        help="run one part (default: all)",
    )
    parser.add_argument(
        "--against",
        metavar="REV",
        help="backfill, records: also time the source as of this git revision, in the same rounds",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        args.against_package = None if args.against is None else package_at(args.against, Path(tmp))
        await run(args)


async def run(args: argparse.Namespace) -> None:
    if args.only in (None, "records"):
        records_table(args.against, args.against_package, args.rounds, 20_000)
    if args.only == "records":
        return
    # --prune-history: anvil keeps no state per block, so mining the range stays quick
    # (with it, mining slows with every block: ~3x by block 900). Blocks and logs stay.
    with running_anvil("--prune-history") as anvil:
        if args.only in (None, "latency"):
            ws, floor = await latency(anvil, args.samples, args.poll, ws=True)
            poll, _ = await latency(anvil, args.poll_samples, args.poll, ws=False)
            print_table(
                "block-to-handler latency, blocks mined every 50-100 ms (ms)",
                [
                    latency_row("bare websockets newHeads subscriber (floor)", floor, []),
                    latency_row("cove, newHeads, journal + handler + commit", ws, floor),
                    latency_row(f"cove, HTTP poll every {args.poll}", poll, floor),
                ],
                ("reader", "blocks", "p50", "p99", "max", "÷ floor (p50, p99)"),
            )
        if args.only in (None, "burst"):
            cove_s, got, bare_s, found = await burst(anvil, args.burst, args.window)
            print_table(
                f"burst of {args.burst} logs mined at once",
                [
                    (
                        "cove: mined -> last handled (native plugin)",
                        f"{cove_s:.3f}",
                        str(got),
                        f"{got / cove_s:,.0f}",
                        f"{cove_s / bare_s:.2f}x",
                    ),
                    (
                        "bare windowed eth_getLogs (httpx, raw JSON)",
                        f"{bare_s:.3f}",
                        str(found),
                        f"{found / bare_s:,.0f}",
                        "1.00x",
                    ),
                ],
                ("reader", "seconds", "logs", "logs/s", "time ÷ bare"),
            )
        if args.only in (None, "backfill"):
            await backfill(anvil, args)


async def backfill(anvil: Anvil, args: argparse.Namespace) -> None:
    """Every reader once per round, in a rotated order (a burst of load falls on each in
    turn); per reader the median, and its median ratio to the bare loops of the same round."""
    contract, start, end = await asyncio.to_thread(prepare_logs, anvil, args.blocks, args.logs)
    wide = 10_000  # the source's widest window (MAX_LOG_WINDOW): the same request count
    readers: dict[str, Callable[[], Awaitable[tuple[float, int]]]] = {
        "cove source, logs only": lambda: cove_backfill(anvil, contract, start, end, blocks=False),
        **(
            {}
            if args.against is None
            else {
                f"cove source at {args.against}, logs only": lambda: cove_backfill(
                    anvil, contract, start, end, blocks=False, cove=args.against_package
                ),
            }
        ),
        "cove source, blocks + logs": lambda: cove_backfill(
            anvil, contract, start, end, blocks=True
        ),
        BARE: lambda: raw_windows(anvil, contract, start, end, args.window),
        WIDE: lambda: raw_windows(anvil, contract, start, end, wide),
        f"web3.py get_logs, {args.window}-block windows": lambda: asyncio.to_thread(
            web3_windows, anvil, contract, start, end, args.window
        ),
    }
    times: dict[str, list[float]] = {label: [] for label in readers}
    found: dict[str, int] = {}
    order = list(readers)
    for round_ in range(args.rounds):
        for label in order[round_ % len(order) :] + order[: round_ % len(order)]:
            secs, logs = await readers[label]()
            times[label].append(secs)
            found[label] = logs
    blocks = end - start
    rows: list[tuple[str, ...]] = [
        (
            label.replace(BARE, f"bare eth_getLogs, {args.window}-block windows (httpx)").replace(
                WIDE, f"bare eth_getLogs, {wide}-block windows (httpx)"
            ),
            f"{statistics.median(secs):.3f}",
            f"{min(secs):.3f}",
            f"{blocks / statistics.median(secs):,.0f}",
            str(found[label]),
            _ratio(secs, times[BARE]),
            _ratio(secs, times[WIDE]),
        )
        for label, secs in times.items()
    ]
    if not args.skip_loop:
        secs, logs = await asyncio.to_thread(web3_loop, anvil, contract, start, end)
        rows.append(("web3.py per-block loop (once)", f"{secs:.3f}", "", "", str(logs), "", ""))
    print_table(
        f"backfill of {blocks} blocks with {args.logs} logs, {args.rounds} alternating rounds",
        rows,
        (
            "reader",
            "median s",
            "min s",
            "blocks/s",
            "logs",
            f"÷ bare {args.window} (median of rounds)",
            f"÷ bare {wide}",
        ),
    )


BARE, WIDE = "bare", "wide"


def _ratio(secs: Sequence[float], baseline: Sequence[float]) -> str:
    """The median of the per-round ratios: each round's figures were taken minutes apart at
    most, so the machine's load changes less within a round than across them."""
    return f"{statistics.median(a / b for a, b in zip(secs, baseline, strict=True)):.2f}x"


if __name__ == "__main__":
    asyncio.run(main())
