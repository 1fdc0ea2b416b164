"""The A2A hub's cost per message against the same agent called directly with the SDK.

One real a2a-sdk agent on loopback (tests/helpers/a2a_agents.py). Each row
sends N one-word questions one after another and times each round trip:

- direct: the a2a-sdk client alone, one blocking ``SendMessage`` per
  question (the agent answers within the request): the floor;
- hub: a cove engine whose A2A hub module gets each question as a
  ``message`` event (a memory transport) and answers through it; timed
  from the publish to the reply leaving the outbox. It reads the agent's
  card once, sends with "return at once" and, for a task, polls it.

Two agents: one that answers with a message, one that answers with a task
(the hub then polls every ``--poll`` ms). The ratio is hub ÷ direct, medians.
A last row is the engine's own floor for such a round trip: a native echo
plugin answering each message itself, no agent.

Usage: python bench/a2a_hub.py [--messages 200] [--poll 20ms]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _common import engine_bench_args, print_table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from a2a.client import ClientConfig, create_client
from a2a.helpers.proto_helpers import new_text_message
from a2a.types import Role, SendMessageRequest

from cove import load_config
from cove._app import App
from cove.testing import MemoryTransport
from tests.helpers.a2a_agents import hub_module, running_agent


async def _direct(url: str, count: int) -> list[float]:
    async with httpx.AsyncClient() as http:
        client = await create_client(url, ClientConfig(streaming=False, httpx_client=http))
        took = []
        for index in range(count):
            request = SendMessageRequest(message=new_text_message(f"q{index}", role=Role.ROLE_USER))
            start = time.perf_counter()
            async for _ in client.send_message(request):
                break
            took.append(time.perf_counter() - start)
        return took


_ECHO = (
    "from cove import Plugin\nfrom cove.plugin import SendMessage\n\n"
    "class Echo(Plugin):\n    def handle_event(self, event, ctx):\n"
    "        m = event.payload\n        return [SendMessage(m.transport, m.sender, m.body.upper())]\n"
)


def _echo_module(tmp: Path) -> Path:
    root = tmp / "echo"
    root.mkdir()
    (root / "echo.py").write_text(_ECHO)
    (root / "cove.toml").write_text(
        '[module]\nname = "echo"\nversion = "0.1.0"\nkind = "python"\nentry = "echo:Echo"\n'
        '[capabilities]\nrequired = ["messaging"]\n[[subscription]]\nkind = "message"\n'
    )
    return root


async def _engine(module: Path, count: int, tmp: Path) -> list[float]:
    (tmp / "engine.toml").write_text(
        f'data_dir = "{tmp / "data"}"\nmodules = ["{module}"]\n[trajectories]\nenabled = false\n'
    )
    chat = MemoryTransport("chat")
    app = App(load_config(tmp / "engine.toml"), transports=[chat])
    await app.start()
    try:
        took = []
        for index in range(count):
            start = time.perf_counter()
            await chat.receive(f"user{index}", f"q{index}")
            while len(chat.sent) <= index:
                await asyncio.sleep(0.0005)
            took.append(time.perf_counter() - start)
        assert chat.sent[-1].body == f"Q{count - 1}", chat.sent[-1]
        return took
    finally:
        await app.stop(drain_seconds=2)


async def _hub(url: str, count: int, poll: str, tmp: Path) -> list[float]:
    return await _engine(hub_module(tmp, url, poll_interval=poll, timeout="30s"), count, tmp)


def _ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.2f}"


def _p99(samples: list[float]) -> str:
    return f"{sorted(samples)[int(len(samples) * 0.99) - 1] * 1000:.2f}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--poll", default="20ms", help="the hub's poll_interval for tasks")
    args = engine_bench_args(parser)
    rows = []
    for mode in ("message", "task"):
        with running_agent(mode) as (url, _), tempfile.TemporaryDirectory() as tmp:
            direct = await _direct(url, args.messages)
            hub = await _hub(url, args.messages, args.poll, Path(tmp))
        ratio = statistics.median(hub) / statistics.median(direct)
        rows.append((mode, _ms(direct), _p99(direct), _ms(hub), _p99(hub), f"{ratio:.2f}"))
    with tempfile.TemporaryDirectory() as tmp:
        echo = await _engine(_echo_module(Path(tmp)), args.messages, Path(tmp))
    rows.append(("(no agent: echo plugin)", "", "", _ms(echo), _p99(echo), ""))
    print_table(
        f"A2A hub vs the SDK client alone, {args.messages} questions one at a time "
        f"(task poll {args.poll})",
        rows,
        ("agent answers", "direct p50 ms", "direct p99 ms", "cove p50 ms", "cove p99 ms", "ratio"),
    )


if __name__ == "__main__":
    asyncio.run(main())
