"""Native plugins on a real engine: the auto-reply example and the Plugin contract."""

from __future__ import annotations

from pathlib import Path

from cove.testing import MemoryTransport
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import REPO, write_engine_config, write_manifest

PLUGIN = """
from cove import Plugin
from cove.plugin import SetState


class Tally(Plugin):
    version = "{version}"
    subscriptions = [{{"kind": "message", "transport": "chat"}}]

    def handle_event(self, event, ctx):
        return [SetState("seen", ctx.state.get("seen", 0) + 1)]
"""


async def test_auto_reply_answers_by_first_matching_rule_case_insensitively(
    tmp_path: Path,
) -> None:
    chat = MemoryTransport("chat")
    config = write_engine_config(tmp_path / "engine.toml", [REPO / "examples" / "auto_reply"])
    async with running_engine(config, transports=[chat]) as engine:
        await chat.receive("alice", "Hello! What is the PRICE?")
        await chat.receive("bob", "nothing to see")
        await chat.receive("carol", "HELP me")
        await wait_until(lambda: len(chat.sent) == 2, what="two replies")
        await wait_until(lambda: state_json(engine, "auto-reply", "replied") == 2)
    assert [(m.recipient, m.body) for m in chat.sent] == [
        ("alice", "Prices are on https://example.com/pricing"),
        ("carol", "I answer questions about prices and say hello."),
    ]


async def test_plugin_class_subscriptions_apply_when_the_manifest_has_none(
    tmp_path: Path,
) -> None:
    chat = MemoryTransport("chat")
    module = write_manifest(
        tmp_path / "tally",
        "tally",
        kind="python",
        entry="tally:Tally",
        required=["store"],
        subscriptions=[],
    )
    (module / "tally.py").write_text(PLUGIN.format(version="0.1.0"))
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config, transports=[chat, MemoryTransport("other")]) as engine:
        await chat.receive("alice", "one")
        await chat.receive("alice", "two")
        await wait_until(lambda: state_json(engine, "tally", "seen") == 2, what="two seen")


async def test_plugin_class_that_disagrees_with_its_manifest_is_refused(tmp_path: Path) -> None:
    module = write_manifest(
        tmp_path / "tally", "tally", kind="python", entry="tally:Tally", required=["store"]
    )
    (module / "tally.py").write_text(PLUGIN.format(version="9.9.9"))
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        assert "tally" not in engine.runners
        (error,) = engine.load_errors.values()
    assert "plugin class says version '9.9.9' but the manifest says '0.1.0'" in error


async def test_plugin_whose_constructor_raises_is_refused_and_others_keep_running(
    tmp_path: Path,
) -> None:
    broken = write_manifest(tmp_path / "broken", "broken", kind="python", entry="broken:Broken")
    (broken / "broken.py").write_text(
        "import re\nfrom cove import Plugin\n\n"
        "class Broken(Plugin):\n"
        "    def __init__(self):\n"
        "        self.pattern = re.compile('(unclosed')\n"
    )
    tally = write_manifest(
        tmp_path / "tally", "tally", kind="python", entry="tally:Tally", required=["store"]
    )
    (tally / "tally.py").write_text(PLUGIN.format(version="0.1.0"))
    config = write_engine_config(tmp_path / "engine.toml", [broken, tally])
    async with running_engine(config) as engine:
        assert "tally" in engine.runners
        assert "broken" not in engine.runners
        (error,) = engine.load_errors.values()
    assert "module 'broken': Broken() raised error: missing ), unterminated subpattern" in error
    assert "init()" in error
