"""Hooks on a real engine: order across modules, policies, vetoes, lifecycle points, grants.

The hook modules are native plugins written by the test. Each records what it
saw as JSON lines in a file, and does what ``behaviour.json`` next to it says
at each point (a plugin's ``on_hook`` may run before its ``init``, so the
test plugins do not depend on their config).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cove import Custom, Engine, Event, Trajectory, load_config
from cove.errors import HookBlockedError, ToolError
from cove.testing import MemoryTransport
from tests.helpers.control import control_section, flaky_module, running_plane
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import ASSETS, REPO, write_engine_config, write_manifest
from tests.integration.test_cli_control import cove

HOOK_PLUGIN = """
import json, time
from pathlib import Path

from cove import Plugin
from cove.plugin import Veto

HERE = Path(__file__).parent


class HookProbe(Plugin):
    def on_hook(self, point, payload):
        with (HERE / "seen.jsonl").open("a") as f:
            f.write(json.dumps({"point": point, "payload": payload}) + "\\n")
        action = json.loads((HERE / "behaviour.json").read_text()).get(point, "pass")
        if action == "fail":
            raise RuntimeError("probe hook failed on purpose")
        if action == "hang":
            while not (HERE / "release").exists():
                time.sleep(0.01)
            return None
        if action == "veto":
            return Veto("probe says no")
        if action.startswith("append:"):
            payload["body"] += action.removeprefix("append:")
            return payload
        return None
"""

SENDER_PLUGIN = """
import json

from cove import Plugin
from cove.plugin import SendMessage, SetState


class Sender(Plugin):
    def handle_event(self, event, ctx):
        body = json.loads(event.payload.payload)["body"]
        return [SetState("last", body), SendMessage("chat", "ops", body)]
"""


def hook_module(
    tmp: Path,
    name: str,
    hooks: list[dict[str, Any]],
    behaviour: dict[str, str] | None = None,
    *,
    optional: bool = False,
) -> Path:
    asked = {"optional" if optional else "required": ["hooks"]}
    directory = write_manifest(tmp / name, name, kind="python", entry="probe:HookProbe", **asked)
    with (directory / "cove.toml").open("a") as f:
        for hook in hooks:
            f.write("\n[[hook]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in hook.items()))
    (directory / "probe.py").write_text(HOOK_PLUGIN)
    (directory / "behaviour.json").write_text(json.dumps(behaviour or {}))
    return directory


def seen(module: Path, point: str | None = None) -> list[dict[str, Any]]:
    path = module / "seen.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    records = [json.loads(line) for line in lines]
    return [r for r in records if point is None or r["point"] == point]


def sender(tmp: Path, **manifest: Any) -> Path:
    directory = write_manifest(
        tmp / "sender",
        "sender",
        kind="python",
        entry="sender:Sender",
        required=["messaging", "store"],
        subscriptions=[{"kind": "custom", "name": "send"}],
        **manifest,
    )
    (directory / "sender.py").write_text(SENDER_PLUGIN)
    return directory


def send(body: str) -> Event:
    return Event(Custom("send", "", json.dumps({"body": body})))


def config(tmp: Path, modules: list[Path], hooks: str = "") -> Path:
    extra = '\n[outbox]\nretry_initial = "50ms"\nretry_max = "100ms"\n' + hooks
    return write_engine_config(tmp / "engine.toml", modules, extra)


def pending_attempts(engine: Engine) -> list[int]:
    """Delivery attempts of each message still in the outbox."""
    return [e.attempts for e in engine.store.pending_effects(2**62, 100)]


# modifying: before-message --------------------------------------------------


async def test_the_redact_example_removes_secrets_from_outbound_messages(tmp_path: Path) -> None:
    chat = MemoryTransport("chat")
    key = "0x" + "ab" * 32
    modules = [sender(tmp_path), REPO / "examples" / "redact_hook"]
    async with running_engine(config(tmp_path, modules), transports=[chat]) as engine:
        await engine.publish([send(f"deploying with {key} and sk-{'x' * 24}"), send("all fine")])
        await wait_until(lambda: len(chat.sent) == 2, what="two messages")
    assert [m.body for m in chat.sent] == ["deploying with [redacted] and [redacted]", "all fine"]


async def test_the_redact_example_in_veto_mode_drops_a_message_with_a_secret(
    tmp_path: Path,
) -> None:
    chat = MemoryTransport("chat")
    redact = tmp_path / "redact_hook"
    redact.mkdir()
    for name in ("cove.toml", "redact.py"):
        text = (REPO / "examples" / "redact_hook" / name).read_text()
        (redact / name).write_text(text.replace('mode = "redact"', 'mode = "veto"'))
    modules = [sender(tmp_path), redact]
    async with running_engine(config(tmp_path, modules), transports=[chat]) as engine:
        await wait_until(lambda: engine.runners["redact_hook"].state.value == "running")
        await engine.publish([send("AKIA" + "A" * 16), send("after")])
        await wait_until(lambda: len(chat.sent) == 1, what="the clean message")
        await wait_until(lambda: engine.outbox.vetoed == 1)
        assert pending_attempts(engine) == []  # vetoed: done, never retried
    assert [m.body for m in chat.sent] == ["after"]


async def test_hooks_of_several_modules_run_by_priority_then_name(tmp_path: Path) -> None:
    chat = MemoryTransport("chat")
    hooks = [
        hook_module(tmp_path, name, [{"point": "before-message", "priority": priority}], b)
        for name, priority, b in (
            ("zulu", 1, {"before-message": "append: z"}),
            ("alpha", 5, {"before-message": "append: a"}),
            ("bravo", 1, {"before-message": "append: b"}),
        )
    ]
    modules = [*hooks, sender(tmp_path)]
    async with running_engine(config(tmp_path, modules), transports=[chat]) as engine:
        await engine.publish([send("msg")])
        await wait_until(lambda: len(chat.sent) == 1)
    assert chat.sent[0].body == "msg b z a"
    # each saw the previous one's output
    assert [seen(h, "before-message")[0]["payload"]["body"] for h in hooks] == [
        "msg b",
        "msg b z",
        "msg",
    ]


@pytest.mark.parametrize("failure", ["fail", "hang"])
async def test_a_broken_hook_is_skipped_under_fail_open(tmp_path: Path, failure: str) -> None:
    chat = MemoryTransport("chat")
    broken = hook_module(
        tmp_path,
        "broken",
        [{"point": "before-message", "priority": 1}],
        {"before-message": failure},
    )
    fine = hook_module(
        tmp_path,
        "fine",
        [{"point": "before-message", "priority": 2}],
        {"before-message": "append: ok"},
    )
    policy = '\n[hooks]\ntimeout = "200ms"\n[hooks.policy]\nbefore_message = "fail-open"\n'
    try:
        async with running_engine(
            config(tmp_path, [broken, fine, sender(tmp_path)], policy), transports=[chat]
        ) as engine:
            await engine.publish([send("msg")])
            await wait_until(lambda: len(chat.sent) == 1)
            assert engine.hooks.failed["before-message"] == 1
    finally:
        (broken / "release").touch()
    assert chat.sent[0].body == "msg ok"


@pytest.mark.parametrize("failure", ["fail", "hang"])
async def test_a_broken_hook_holds_the_message_under_fail_closed(
    tmp_path: Path, failure: str
) -> None:
    """The default for before-message: nothing is sent while the hook is broken; it is retried."""
    chat = MemoryTransport("chat")
    broken = hook_module(
        tmp_path,
        "broken",
        [{"point": "before-message", "timeout": "200ms"}],
        {"before-message": failure},
    )
    try:
        async with running_engine(
            config(tmp_path, [broken, sender(tmp_path)]), transports=[chat]
        ) as engine:
            await engine.publish([send("msg")])
            await wait_until(lambda: engine.hooks.failed["before-message"] >= 2, what="a retry")
            assert chat.sent == []
            (attempts,) = pending_attempts(engine)
            assert attempts >= 1
            (broken / "behaviour.json").write_text("{}")  # the hook works again
            (broken / "release").touch()
            await wait_until(lambda: len(chat.sent) == 1, what="the held message")
    finally:
        (broken / "release").touch()
    assert chat.sent[0].body == "msg"


async def test_a_message_held_at_shutdown_goes_through_the_hooks_after_a_restart(
    tmp_path: Path,
) -> None:
    """The outbox starts only once every module is loaded: a pending message is never
    sent before the hooks that must see it are in place."""
    broken = hook_module(
        tmp_path, "broken", [{"point": "before-message"}], {"before-message": "fail"}
    )
    held = config(tmp_path, [broken, sender(tmp_path)])
    async with running_engine(held, transports=[MemoryTransport("chat")]) as engine:
        await engine.publish([send("key 0x" + "ef" * 32)])
        await wait_until(lambda: engine.hooks.failed["before-message"] >= 1, what="a held message")
    chat = MemoryTransport("chat")
    modules = [sender(tmp_path), REPO / "examples" / "redact_hook"]
    async with running_engine(config(tmp_path, modules), transports=[chat]):
        await wait_until(lambda: len(chat.sent) == 1, what="the held message")
    assert chat.sent[0].body == "key [redacted]"


# observing points -----------------------------------------------------------


async def test_before_commit_sees_the_writes_and_fail_closed_keeps_them_out(
    tmp_path: Path,
) -> None:
    watcher = hook_module(tmp_path, "watcher", [{"point": "before-commit"}])
    async with running_engine(config(tmp_path, [watcher, sender(tmp_path)])) as engine:
        await engine.publish([send("first")])
        await wait_until(lambda: state_json(engine, "sender", "last") == "first")
    (commit,) = [r["payload"] for r in seen(watcher, "before-commit")]
    assert commit["module"] == "sender"
    assert commit["writes"] == [{"key": "last", "deleted": False, "size": 7, "text": '"first"'}]

    blocker = hook_module(
        tmp_path, "blocker", [{"point": "before-commit"}], {"before-commit": "fail"}
    )
    closed = '\n[hooks.policy]\nbefore_commit = "fail-closed"\n'
    async with running_engine(config(tmp_path, [blocker, sender(tmp_path)], closed)) as engine:
        await engine.publish([send("second")])
        runner = engine.runners["sender"]
        await wait_until(lambda: runner.stats.failed >= 1, what="the blocked commit")
        assert state_json(engine, "sender", "last") == "first"
        assert "before-commit: blocked by hook of module 'blocker'" in runner.stats.last_error


async def test_a_refused_commit_leaves_no_ok_trajectories(tmp_path: Path) -> None:
    """Trajectories are handed over after the before-commit hook: the events of a batch
    it refused were not committed, so none of them may read "ok"."""
    blocker = hook_module(
        tmp_path, "blocker", [{"point": "before-commit"}], {"before-commit": "fail"}
    )
    closed = '\n[hooks.policy]\nbefore_commit = "fail-closed"\n'
    trajectories: list[Trajectory] = []
    path = config(tmp_path, [blocker, sender(tmp_path)], closed)
    async with running_engine(path, trajectories=trajectories) as engine:
        await engine.publish([send("refused")])
        runner = engine.runners["sender"]
        await wait_until(lambda: runner.stats.failed >= 1, what="the blocked commit")
        await wait_until(lambda: any(t.module == "sender" for t in trajectories))
        assert state_json(engine, "sender", "last") is None
    mine = [t for t in trajectories if t.module == "sender"]
    assert [] == [t for t in mine if t.outcome == "ok"]
    assert all(t.outcome == "failed" and "not committed" in t.error for t in mine)


async def test_a_module_whose_commits_are_always_refused_dies(tmp_path: Path) -> None:
    """A refused commit is a failure in a row: handling the events before it must not
    reset the count, or max_failures would never end the retries."""
    blocker = hook_module(
        tmp_path, "blocker", [{"point": "before-commit"}], {"before-commit": "fail"}
    )
    closed = '\n[hooks.policy]\nbefore_commit = "fail-closed"\n'
    refused = sender(tmp_path, restart={"max_failures": 2, "backoff_initial": "1ms"})
    async with running_engine(config(tmp_path, [blocker, refused], closed)) as engine:
        await engine.publish([send("refused")])
        runner = engine.runners["sender"]
        await wait_until(lambda: runner.state.value == "dead", what="dead")
        assert (0, 2) == (runner.stats.handled, runner.stats.failed)


async def test_a_refused_batch_that_ends_in_a_failure_leaves_no_ok_trajectories(
    tmp_path: Path,
) -> None:
    """The failing event's record must wait for the commit of the events before it:
    handing the batch over at the failure would pass their "ok" on before the hook."""
    (tmp_path / "mode").write_text("poison")
    flaky = flaky_module(tmp_path, "flaky", tmp_path / "mode", restart={"max_failures": 1})
    blocker = hook_module(
        tmp_path, "blocker", [{"point": "before-commit"}], {"before-commit": "fail"}
    )
    closed = '\n[hooks.policy]\nbefore_commit = "fail-closed"\n'
    trajectories: list[Trajectory] = []
    path = config(tmp_path, [blocker, flaky], closed)
    async with running_engine(path, trajectories=trajectories) as engine:
        await engine.publish([Event(Custom("probe.x", "", p)) for p in ("1", "poison")])
        runner = engine.runners["flaky"]
        await wait_until(lambda: runner.state.value == "dead", what="dead")
    outcomes = [(t.seq, t.outcome) for t in trajectories if t.module == "flaky"]
    assert [(1, "failed"), (2, "failed")] == outcomes


async def test_a_module_killed_by_a_blocked_commit_has_no_event_to_skip(tmp_path: Path) -> None:
    """The refused batch held an event handled before the failing one: skipping the
    failing one would move the cursor past that never-committed event."""
    (tmp_path / "mode").write_text("poison")
    flaky = flaky_module(tmp_path, "flaky", tmp_path / "mode", restart={"max_failures": 1})
    blocker = hook_module(
        tmp_path, "blocker", [{"point": "before-commit"}], {"before-commit": "fail"}
    )
    closed = '\n[hooks.policy]\nbefore_commit = "fail-closed"\n'
    async with running_engine(config(tmp_path, [blocker, flaky], closed)) as engine:
        await engine.publish([Event(Custom("probe.x", "", p)) for p in ("1", "poison")])
        runner = engine.runners["flaky"]
        await wait_until(lambda: runner.state.value == "dead", what="dead")
        assert "blocked by hook" in runner.stats.last_error
        assert ("", None) == (runner.failed_event_id, engine.skip_failed_event("flaky"))
        assert 0 == engine.store.cursor("flaky")


async def test_lifecycle_points_see_engine_and_module_changes(tmp_path: Path) -> None:
    points = ["engine-start", "engine-stop", "module-loaded", "module-unloaded", "module-dead"]
    watcher = hook_module(tmp_path, "watcher", [{"point": p} for p in points])
    flaky = write_manifest(
        tmp_path / "flaky",
        "flaky",
        kind="python",
        entry="flaky:Flaky",
        restart={"max_failures": 1},
        subscriptions=[{"kind": "custom", "name": "boom"}],
    )
    (flaky / "flaky.py").write_text(
        "from cove import Plugin\n\nclass Flaky(Plugin):\n"
        "    def handle_event(self, event, ctx):\n        raise RuntimeError('boom')\n"
    )
    async with running_engine(config(tmp_path, [watcher, flaky, sender(tmp_path)])) as engine:
        await engine.publish([Event(Custom("boom", "", "{}"))])
        await wait_until(lambda: len(seen(watcher, "module-dead")) == 1, what="module-dead")
        await engine.unload("sender")
    assert [r["payload"]["module"] for r in seen(watcher, "module-loaded")] == ["flaky", "sender"]
    assert seen(watcher, "module-loaded")[0]["payload"]["kind"] == "python"
    assert seen(watcher, "module-dead")[0]["payload"]["module"] == "flaky"
    assert "boom" in seen(watcher, "module-dead")[0]["payload"]["detail"]
    assert [r["payload"] for r in seen(watcher, "module-unloaded")] == [{"module": "sender"}]
    assert [r["payload"] for r in seen(watcher, "engine-start")] == [
        {"modules": ["flaky", "sender", "watcher"]}
    ]
    assert [r["payload"] for r in seen(watcher, "engine-stop")] == [
        {"modules": ["flaky", "watcher"]}
    ]


async def test_a_failing_module_loaded_hook_refuses_the_load_under_fail_closed(
    tmp_path: Path,
) -> None:
    gate = hook_module(tmp_path, "gate", [{"point": "module-loaded"}], {"module-loaded": "fail"})
    closed = '\n[hooks.policy]\nmodule_loaded = "fail-closed"\n'
    async with running_engine(config(tmp_path, [gate, sender(tmp_path)], closed)) as engine:
        assert sorted(engine.runners) == ["gate"]
        (error,) = engine.load_errors.values()
    assert "module-loaded: blocked by hook of module 'gate'" in error
    assert "probe hook failed on purpose" in error


async def test_a_failing_engine_start_hook_stops_the_start_under_fail_closed(
    tmp_path: Path,
) -> None:
    gate = hook_module(tmp_path, "gate", [{"point": "engine-start"}], {"engine-start": "fail"})
    closed = '\n[hooks.policy]\nengine_start = "fail-closed"\n'
    engine = Engine(load_config(config(tmp_path, [gate], closed)))
    with pytest.raises(HookBlockedError, match="engine-start: blocked by hook of module 'gate'"):
        await engine.start()
    assert not engine.started


# grants -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "why"),
    [
        ('[policy]\ndeny = ["hooks"]\n', "the operator policy denies the 'hooks' capability"),
        (
            '[policy.modules.spy]\nhook_points = ["observer"]\n',
            "[policy.modules.spy] hook_points does not include 'before-message'",
        ),
    ],
)
async def test_a_module_cannot_hook_a_point_it_was_not_granted(
    tmp_path: Path, policy: str, why: str
) -> None:
    # optional: a denied optional capability alone would not refuse the load
    spy = hook_module(tmp_path, "spy", [{"point": "before-message"}], optional=True)
    async with running_engine(config(tmp_path, [spy], "\n" + policy)) as engine:
        assert "spy" not in engine.runners
        (error,) = engine.load_errors.values()
    assert f"module 'spy': cannot hook 'before-message': {why}" in error


async def test_a_native_module_with_hooks_must_implement_on_hook(tmp_path: Path) -> None:
    module = hook_module(tmp_path, "lazy", [{"point": "observer"}])
    (module / "probe.py").write_text(
        "from cove import Plugin\n\nclass HookProbe(Plugin):\n    pass\n"
    )
    async with running_engine(config(tmp_path, [module])) as engine:
        (error,) = engine.load_errors.values()
    assert "declares [[hook]] but HookProbe does not override Plugin.on_hook" in error


# the observer bridge --------------------------------------------------------------


async def test_observers_receive_every_trajectory_and_lifecycle_change(tmp_path: Path) -> None:
    observer = hook_module(tmp_path, "observer", [{"point": "observer"}])
    async with running_engine(config(tmp_path, [observer, sender(tmp_path)])) as engine:
        await engine.publish([send("one"), send("two")])
        await wait_until(lambda: len(seen(observer, "observer")) >= 2 + 4)
        await engine.unload("sender")
    records = [r["payload"] for r in seen(observer, "observer")]
    trajectories = [r for r in records if r["kind"] == "trajectory"]
    assert [(t["module"], t["outcome"]) for t in trajectories] == [("sender", "ok")] * 2
    assert {c["interface"] for c in trajectories[0]["calls"]} == {"store", "messaging"}
    lifecycle = [r for r in records if r["kind"] == "lifecycle"]
    sender_states = [r["state"] for r in lifecycle if r["module"] == "sender"]
    assert sender_states[:2] == ["initializing", "running"]
    assert sender_states[-1] == "unloaded"
    engine_states = [r["state"] for r in records if r["kind"] == "engine"]
    assert engine_states == ["started", "stopping"]


async def test_a_stuck_observer_loses_events_but_never_slows_a_module(tmp_path: Path) -> None:
    observer = hook_module(tmp_path, "observer", [{"point": "observer"}], {"observer": "hang"})
    settings = '\n[hooks]\ntimeout = "60s"\nobserver_queue = 2\n'
    try:
        async with running_engine(
            config(tmp_path, [observer, sender(tmp_path)], settings)
        ) as engine:
            await engine.publish([send(str(i)) for i in range(30)])
            runner = engine.runners["sender"]
            await wait_until(lambda: runner.stats.handled == 30, what="all 30 handled")
            # one record held by the stuck hook, two queued: the rest were dropped
            assert engine.observer.dropped >= 30 - 3
            (observer / "release").touch()
            await wait_until(lambda: engine.observer.queued == 0, what="the queue drained")
            after = send("after")  # once the observer works again, the stream resumes
            await engine.publish([after])

            def observed() -> bool:
                return any(r["payload"].get("event_id") == after.id for r in seen(observer))

            await wait_until(observed, what="the record of an event after the release")
    finally:
        (observer / "release").touch()


# modifying: after-tool-result -------------------------------------------------------


def tool_module(tmp: Path) -> Path:
    module = write_manifest(
        tmp / "nt", "nt", kind="python", entry="tools:Tools", required=["store"], tools=True
    )
    (module / "tools.py").write_text((ASSETS / "native_tools" / "tools.py").read_text())
    return module


async def test_the_redact_example_redacts_tool_results(tmp_path: Path) -> None:
    key = "0x" + "cd" * 32
    modules = [tool_module(tmp_path), REPO / "examples" / "redact_hook"]
    async with running_engine(config(tmp_path, modules)) as engine:
        await wait_until(lambda: engine.runners["nt"].state.value == "running")
        result = await engine.tools.call("nt.greet", {"who": f"bob, key {key}"})
    assert json.loads(result) == "hello bob, key [redacted]"


async def test_a_failing_tool_result_hook_withholds_the_result_by_default(
    tmp_path: Path,
) -> None:
    broken = hook_module(
        tmp_path, "broken", [{"point": "after-tool-result"}], {"after-tool-result": "fail"}
    )
    async with running_engine(config(tmp_path, [tool_module(tmp_path), broken])) as engine:
        await wait_until(lambda: engine.runners["nt"].state.value == "running")
        with pytest.raises(ToolError, match="result withheld: after-tool-result: blocked"):
            await engine.tools.call("nt.greet", {"who": "bob"})


# the operator's view --------------------------------------------------------------


async def test_the_control_plane_and_cove_hooks_show_each_chain_in_run_order(
    tmp_path: Path,
) -> None:
    hooks = [
        hook_module(tmp_path, "zulu", [{"point": "before-message", "priority": 1}]),
        hook_module(
            tmp_path, "alpha", [{"point": "before-message", "priority": 1, "timeout": "250ms"}]
        ),
        hook_module(tmp_path, "watcher", [{"point": "observer"}]),
    ]
    extra = control_section(token=False, metrics=False)
    async with running_plane(config(tmp_path, hooks, extra)) as plane:
        body = (await plane.client.get("/v1/hooks")).json()
        table = await cove(plane, "hooks", token=None)
    assert table.code == 0, table.err
    rows = [line.split() for line in table.out.splitlines()[1:]]
    assert rows == [
        ["before-message", "fail-closed", "alpha", "1", "250", "ms"],
        ["zulu", "1", "1000", "ms"],
        ["observer", "fail-open", "watcher", "0", "1000", "ms"],
    ]
    assert body["points"]["before-message"] == {
        "policy": "fail-closed",
        "hooks": [
            {"module": "alpha", "priority": 1, "timeout_ms": 250},
            {"module": "zulu", "priority": 1, "timeout_ms": 1000},
        ],
    }
    assert body["points"]["observer"]["policy"] == "fail-open"
    assert body["failed"] == {} and body["vetoed"] == {}
    assert set(body["observer_bridge"]) == {"queued", "dropped"}
