"""Two engines' modules talk through one real mosquitto: a send with ``reply_to`` is answered."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.engine import probe_event, running_engine, state_json, wait_until
from tests.helpers.modules import recorder_module, write_engine_config, write_manifest
from tests.helpers.mosquitto import Broker, broker

__all__ = ["broker"]  # the fixture

TALKER = """
from cove import Plugin
from cove.plugin import SendMessage


class Talker(Plugin):
    def handle_event(self, event, ctx):
        reply_to = (("reply_to", "agents/a/inbox"),)
        return [SendMessage("bus", "agents/b/inbox", "hello", reply_to)]
"""


def _engine(directory: Path, port: int, name: str, inbox: str, modules: list[Path]) -> Path:
    extra = (
        "[[transports]]\n"
        f'name = "bus"\nkind = "mqtt"\nhost = "127.0.0.1"\nport = {port}\n'
        f'client_id = "engine-{name}"\nsubscribe = ["{inbox}"]\n'
    )
    return write_engine_config(directory / "engine.toml", modules, extra)


async def test_a_module_on_one_engine_is_answered_by_a_module_on_another(
    tmp_path: Path, broker: Broker
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    talker = write_manifest(
        a / "talker",
        "talker",
        kind="python",
        entry="talker:Talker",
        required=["messaging"],
    )
    (talker / "talker.py").write_text(TALKER)
    listener = recorder_module(a, [{"kind": "message"}], required=["store"])
    echo = recorder_module(b, [{"kind": "message"}], required=["store", "messaging"])
    (echo / "cove.toml").write_text((echo / "cove.toml").read_text() + "\n[config]\necho = true\n")
    config_a = _engine(a, broker.port, "a", "agents/a/inbox", [talker, listener])
    config_b = _engine(b, broker.port, "b", "agents/b/inbox", [echo])
    async with running_engine(config_b) as engine_b, running_engine(config_a) as engine_a:
        for engine in (engine_a, engine_b):
            transport = engine.transports["bus"]
            await wait_until(lambda t=transport: t._client is not None, what="connected")
        await engine_a.publish([probe_event("talk")])
        await wait_until(
            lambda: state_json(engine_a, "recorder", "messages") is not None, what="the answer"
        )
        [heard] = state_json(engine_b, "recorder", "messages")
        assert ("agents/a/inbox", "agents/b/inbox", "hello") == (
            heard["sender"],
            heard["recipient"],
            heard["body"],
        )
        assert [] == heard["metadata"]  # reply_to travelled as the response topic
        [answer] = state_json(engine_a, "recorder", "messages")
        assert ("agents/a/inbox", "echo: hello") == (answer["recipient"], answer["body"])
