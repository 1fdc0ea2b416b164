"""The hook chain: order, each hook sees the previous output, failure policies, timeouts, vetoes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cove._config_hooks import HookPoint, HooksSettings
from cove._engine._hooks import Hook, HookCall, Hooks
from cove._hosts._base import HookOutcome
from cove.errors import HookBlockedError

MESSAGE = {
    "module": "sender",
    "transport": "chat",
    "recipient": "ops",
    "body": "hello",
    "metadata": [],
}


def closed(*points: str) -> HooksSettings:
    return HooksSettings.model_validate(
        {"policy": {p.replace("-", "_"): "fail-closed" for p in points}}
    )


def opened(*points: str) -> HooksSettings:
    return HooksSettings.model_validate(
        {"policy": {p.replace("-", "_"): "fail-open" for p in points}}
    )


def hook(
    module: str, call: HookCall, priority: int = 0, point: HookPoint = "before-message"
) -> Hook:
    return Hook(module, point, priority, 200, call, lambda: "")


def appender(text: str) -> HookCall:
    """Appends ``text`` to the message body: the order shows in the result."""

    def call(point: str, payload_json: str) -> HookOutcome:
        payload = json.loads(payload_json)
        payload["body"] += text
        return HookOutcome("replace", json.dumps(payload))

    return call


def failing(point: str, payload_json: str) -> HookOutcome:
    raise RuntimeError("hook broke")


@pytest.fixture
def stuck() -> Iterator[HookCall]:
    """A hook that hangs until the test ends."""
    release = threading.Event()

    def call(point: str, payload_json: str) -> HookOutcome:
        release.wait(30)
        return HookOutcome("pass")

    yield call
    release.set()


def make(settings: HooksSettings, *hooks: Hook) -> Hooks:
    chain = Hooks(settings, lambda *a, **k: None)
    chain.add(hooks)
    return chain


def test_hooks_run_by_priority_then_module_name_each_seeing_the_previous_output() -> None:
    chain = make(
        HooksSettings(),
        hook("zeta", appender(" z0"), priority=0),
        hook("alpha", appender(" a5"), priority=5),
        hook("beta", appender(" b0"), priority=0),
        hook("first", appender(" f-1"), priority=-1),
    )
    assert chain.run("before-message", MESSAGE)["body"] == "hello f-1 b0 z0 a5"


@given(st.lists(st.tuples(st.integers(-3, 3), st.sampled_from("abcdef")), max_size=8, unique=True))
def test_the_order_never_depends_on_the_order_hooks_were_added(
    entries: list[tuple[int, str]],
) -> None:
    chain = make(HooksSettings(), *(hook(m, appender(m), p) for p, m in entries))
    expected = "".join(m for _, m in sorted(entries))
    assert chain.run("before-message", MESSAGE)["body"] == "hello" + expected


def test_a_failing_hook_is_skipped_under_fail_open() -> None:
    chain = make(
        opened("before-message"),
        hook("a", appender(" a"), 1),
        hook("b", failing, 2),
        hook("c", appender(" c"), 3),
    )
    assert chain.run("before-message", MESSAGE)["body"] == "hello a c"
    assert chain.failed["before-message"] == 1


def test_a_failing_hook_blocks_the_action_under_fail_closed() -> None:
    after: list[str] = []

    def later(point: str, payload_json: str) -> HookOutcome:
        after.append(point)
        return HookOutcome("pass")

    chain = make(closed("before-message"), hook("a", failing, 1), hook("c", later, 2))
    with pytest.raises(HookBlockedError, match=r"module 'a'.*hook broke") as caught:
        chain.run("before-message", MESSAGE)
    assert (caught.value.point, caught.value.module, caught.value.vetoed) == (
        "before-message",
        "a",
        False,
    )
    assert after == []


def test_failures_on_many_threads_at_once_are_all_counted() -> None:
    chain = make(opened("before-commit"), hook("a", failing, point="before-commit"))

    def run() -> None:
        for _ in range(200):
            chain.run("before-commit", {})

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert chain.failed["before-commit"] == 8 * 200


def test_a_hook_that_times_out_is_skipped_under_fail_open(stuck: HookCall) -> None:
    chain = make(opened("before-message"), hook("slow", stuck, 1), hook("b", appender(" b"), 2))
    assert chain.run("before-message", MESSAGE)["body"] == "hello b"
    assert chain.failed["before-message"] == 1


def test_a_hook_that_times_out_blocks_under_fail_closed(stuck: HookCall) -> None:
    chain = make(closed("before-message"), hook("slow", stuck))
    with pytest.raises(HookBlockedError, match="timed out after 200 ms"):
        chain.run("before-message", MESSAGE)


def test_hooks_stuck_past_their_timeout_never_delay_the_other_hooks(stuck: HookCall) -> None:
    """More stuck hooks than a fixed pool would have threads: the healthy one still runs."""
    slow = [hook(f"slow{i}", stuck, 1) for i in range(6)]
    chain = make(opened("before-message"), *slow, hook("b", appender(" b"), 2))
    assert chain.run("before-message", MESSAGE)["body"] == "hello b"
    assert chain.failed["before-message"] == 6


def test_a_hook_whose_last_call_is_still_stuck_fails_at_once_until_it_returns() -> None:
    release = threading.Event()
    entered: list[str] = []

    def call(point: str, payload_json: str) -> HookOutcome:
        entered.append(point)
        release.wait(30)
        return HookOutcome("pass")

    chain = make(opened("before-message"), hook("slow", call))
    try:
        chain.run("before-message", MESSAGE)
        chain.run("before-message", MESSAGE)
        assert entered == ["before-message"]  # not called again while stuck
        assert chain.failed["before-message"] == 2
    finally:
        release.set()
    deadline = time.monotonic() + 10
    while len(entered) < 2 and time.monotonic() < deadline:  # until the stuck call returned
        chain.run("before-message", MESSAGE)
    assert len(entered) == 2


def test_a_module_loaded_again_gets_its_hooks_called_though_its_old_call_is_stuck(
    stuck: HookCall,
) -> None:
    entered: list[str] = []

    def fresh(point: str, payload_json: str) -> HookOutcome:
        entered.append(point)
        return HookOutcome("pass")

    chain = make(opened("before-message"), hook("m", stuck))
    chain.run("before-message", MESSAGE)
    chain.remove("m")
    chain.add([hook("m", fresh)])
    chain.run("before-message", MESSAGE)
    assert entered == ["before-message"]


@pytest.mark.parametrize("settings", [opened("before-message"), closed("before-message")])
def test_a_veto_stops_the_chain_whatever_the_policy(settings: HooksSettings) -> None:
    later: list[str] = []

    def veto(point: str, payload_json: str) -> HookOutcome:
        return HookOutcome("veto", reason="contains a key")

    def after(point: str, payload_json: str) -> HookOutcome:
        later.append(point)
        return HookOutcome("pass")

    chain = make(settings, hook("v", veto, 1), hook("w", after, 2))
    with pytest.raises(HookBlockedError, match="vetoed: contains a key") as caught:
        chain.run("before-message", MESSAGE)
    assert caught.value.vetoed
    assert chain.vetoed["before-message"] == 1
    assert chain.failed["before-message"] == 0
    assert later == []


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"transport": "other"}, "may not change 'transport'"),
        ({"module": "someone"}, "may not change 'module'"),
        ({"body": 5}, "body must be a string"),
        ({"extra": 1}, "exactly the keys"),
        ({"metadata": [["k"]]}, "metadata must be"),
    ],
)
def test_a_replacement_of_the_wrong_shape_counts_as_a_failure(
    change: dict[str, Any], why: str
) -> None:
    def bad(point: str, payload_json: str) -> HookOutcome:
        return HookOutcome("replace", json.dumps({**json.loads(payload_json), **change}))

    with pytest.raises(HookBlockedError, match=why):
        make(closed("before-message"), hook("bad", bad)).run("before-message", MESSAGE)
    assert make(opened("before-message"), hook("bad", bad)).run("before-message", MESSAGE) == (
        MESSAGE
    )


def test_at_an_observing_point_replacements_and_vetoes_are_ignored() -> None:
    def veto(point: str, payload_json: str) -> HookOutcome:
        return HookOutcome("veto", reason="no")

    payload = {"module": "m", "cursor": 3, "events": [], "writes": []}
    chain = make(
        HooksSettings(),
        hook("a", appender("x"), point="before-commit"),
        hook("b", veto, point="before-commit"),
    )
    assert chain.run("before-commit", payload) == payload


def test_a_hook_whose_module_is_unavailable_counts_as_failed() -> None:
    dead = Hook("dead", "before-message", 0, 200, appender("!"), lambda: "module 'dead' is dead")
    with pytest.raises(HookBlockedError, match="module 'dead' is dead"):
        make(closed("before-message"), dead).run("before-message", MESSAGE)


def test_removing_a_module_drops_its_hooks() -> None:
    chain = make(HooksSettings(), hook("a", appender(" a")), hook("b", appender(" b")))
    chain.remove("a")
    assert chain.run("before-message", MESSAGE)["body"] == "hello b"
    chain.remove("b")
    assert not chain.has("before-message")


def test_after_tool_result_passes_the_result_through_the_chain() -> None:
    def redact(point: str, payload_json: str) -> HookOutcome:
        payload = json.loads(payload_json)
        payload["result"]["key"] = "[redacted]"
        return HookOutcome("replace", json.dumps(payload))

    chain = make(HooksSettings(), hook("r", redact, point="after-tool-result"))
    result = chain.after_tool_result("wallet", "balance", '{"key": "sk-1", "n": 1}')
    assert json.loads(result) == {"key": "[redacted]", "n": 1}
    assert make(HooksSettings()).after_tool_result("w", "t", '{"a":1}') == '{"a":1}'


def test_defaults_hold_messages_and_tool_results_closed_and_observations_open() -> None:
    policy = HooksSettings().policy
    assert {p: policy.of(p) for p in ("before-message", "after-tool-result")} == {
        "before-message": "fail-closed",
        "after-tool-result": "fail-closed",
    }
    for point in ("engine-start", "engine-stop", "module-loaded", "module-dead", "before-commit"):
        assert policy.of(point) == "fail-open"
    assert HooksSettings().timeout_ms == 1000
    assert HooksSettings().observer_queue == 10_000


@pytest.mark.parametrize("point", ["engine-stop", "module-unloaded", "module-dead"])
def test_fail_closed_is_refused_where_nothing_is_left_to_block(point: str) -> None:
    with pytest.raises(ValidationError, match="only fail-open is possible"):
        closed(point)
