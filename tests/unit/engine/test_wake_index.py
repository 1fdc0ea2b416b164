"""WakeIndex: an append wakes only the runners it can concern, whatever else is loaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from cove._engine._matching import SubscriptionMatcher
from cove._engine._runner import ModuleRunner
from cove._engine._wake_index import WakeIndex
from cove._events import MESSAGE_SENT, Custom, Event, Message, Payload, Tick
from cove._manifest_subscriptions import (
    CustomSubscription,
    MessageSubscription,
    Subscription,
    TickSubscription,
)
from cove._store._base import JournalEntry


@dataclass
class FakeManifest:
    subscription: list[Subscription]


@dataclass
class FakeRunner:
    """What the index reads of a runner: its subscriptions and its compiled matcher."""

    name: str
    subscription: list[Subscription]
    manifest: FakeManifest = field(init=False)
    instance: Any = field(init=False)

    def __post_init__(self) -> None:
        self.manifest = FakeManifest(self.subscription)
        self.instance = self
        self.matches = SubscriptionMatcher(self.subscription, self.name)

    def __hash__(self) -> int:
        return hash(self.name)


def _custom(name: str) -> CustomSubscription:
    return CustomSubscription(kind="custom", name=name)


def _index(*runners: FakeRunner) -> tuple[WakeIndex, dict[str, ModuleRunner]]:
    by_name = {r.name: cast(ModuleRunner, r) for r in runners}
    index = WakeIndex()
    index.rebuild(by_name.values())
    return index, by_name


def _woken(index: WakeIndex, runners: dict[str, ModuleRunner], *payloads: Payload) -> set[str]:
    entries = [JournalEntry(i + 1, Event(p)) for i, p in enumerate(payloads)]
    return {r.name for r in index.concerned(entries, runners)}


def test_an_exact_name_wakes_its_subscribers_only_among_thousands() -> None:
    many = [FakeRunner(f"m{i}", [_custom(f"bench.m{i}")]) for i in range(5000)]
    index, runners = _index(*many, FakeRunner("glob", [_custom("bench.*")]))
    assert _woken(index, runners, Custom("bench.m42", "", "{}")) == {"m42", "glob"}
    assert _woken(index, runners, Custom("other", "", "{}")) == set()


def test_other_kinds_wake_the_modules_subscribed_to_that_kind_and_matching() -> None:
    index, runners = _index(
        FakeRunner("ticker", [TickSubscription(kind="tick", schedule="*/5 * * * *")]),
        FakeRunner("sms", [MessageSubscription(kind="message", transport="sms")]),
        FakeRunner("custom", [_custom("x")]),
    )
    assert _woken(index, runners, Tick("*/5 * * * *", 0)) == {"ticker"}
    assert _woken(index, runners, Tick("0 * * * *", 0)) == set()
    assert _woken(index, runners, Message("sms", "+1", "+2", "hi")) == {"sms"}
    assert _woken(index, runners, Message("mail", "a", "b", "hi"), Custom("x", "", "")) == {
        "custom"
    }


def test_a_private_confirmation_wakes_its_source_alone() -> None:
    index, runners = _index(
        FakeRunner("sender", [_custom(MESSAGE_SENT)]),
        FakeRunner("nosy", [_custom("cove.*"), _custom(MESSAGE_SENT)]),
    )
    assert _woken(index, runners, Custom(MESSAGE_SENT, "sender", "{}")) == {"sender"}
