"""cove._engine._matching: which events reach which subscriptions."""

from __future__ import annotations

from typing import Any

import pytest

from cove._engine import _matching
from cove._engine._matching import SubscriptionMatcher, matches, matches_any
from cove._events import (
    MESSAGE_SENT,
    Block,
    Custom,
    Event,
    Lifecycle,
    Log,
    Message,
    Payload,
    Tick,
    Webhook,
)
from cove._manifest_subscriptions import (
    BlockSubscription,
    CustomSubscription,
    LifecycleSubscription,
    LogSubscription,
    MessageSubscription,
    Subscription,
    TickSubscription,
    WebhookSubscription,
)
from cove._store._base import JournalEntry

TOPIC_A, TOPIC_B, TOPIC_C = "0xAAAA", "0xBBBB", "0xCCCC"

BLOCK = Block(1, 10, "0xh", "0xp", 1_700_000_000)
LOG = Log(1, 10, "0xh", "0xt", 0, "0xDeadBeef", (TOPIC_A, TOPIC_B), b"")
TICK = Tick("*/5 * * * *", 0)
MESSAGE = Message("sms", "+1", "+2", "hi")
WEBHOOK = Webhook("/hooks/a", "POST", (), b"")
CUSTOM = Custom("sensor.reading", "demo", "{}")
LIFECYCLE = Lifecycle("started")
ALL = [BLOCK, LOG, TICK, MESSAGE, WEBHOOK, CUSTOM, LIFECYCLE]


def event(payload: Payload) -> Event:
    return Event(payload, id="e", accepted_at_ms=0)


def log_sub(**fields: Any) -> LogSubscription:
    return LogSubscription(kind="log", chain_id=1, **fields)


@pytest.mark.parametrize(
    ("sub", "payload"),
    [
        (BlockSubscription(kind="block", chain_id=1), BLOCK),
        (log_sub(), LOG),
        (TickSubscription(kind="tick", schedule="*/5 * * * *"), TICK),
        (MessageSubscription(kind="message"), MESSAGE),
        (WebhookSubscription(kind="webhook", path="/hooks/a"), WEBHOOK),
        (CustomSubscription(kind="custom", name="sensor.reading"), CUSTOM),
        (LifecycleSubscription(kind="lifecycle"), LIFECYCLE),
    ],
    ids=lambda v: type(v).__name__,
)
def test_each_kind_matches_only_its_own_events(sub: Subscription, payload: Payload) -> None:
    """A subscription matches its own kind of event and no other kind."""
    assert [p is payload for p in ALL] == [matches(sub, event(p)) for p in ALL]


@pytest.mark.parametrize(
    ("sub", "payload", "expected"),
    [
        (BlockSubscription(kind="block", chain_id=2), BLOCK, False),
        (log_sub(), Log(2, 10, "0xh", "0xt", 0, "0xDeadBeef", (), b""), False),
        (TickSubscription(kind="tick", schedule="0 * * * *"), TICK, False),
        (TickSubscription(kind="tick", every="30s"), Tick("every 30s", 0), True),
        (TickSubscription(kind="tick", every="30s"), Tick("every 1m", 0), False),
        (MessageSubscription(kind="message", transport="sms"), MESSAGE, True),
        (MessageSubscription(kind="message", transport="email"), MESSAGE, False),
        (WebhookSubscription(kind="webhook", path="/hooks"), WEBHOOK, False),
    ],
)
def test_kind_specific_fields_narrow_the_match(
    sub: Subscription, payload: Payload, expected: bool
) -> None:
    """Chain id, tick label, transport and webhook path must agree."""
    assert expected == matches(sub, event(payload))


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (None, True),
        ("0xdeadbeef", True),
        ("0xDEADBEEF", True),
        ("0xcafe", False),
        (["0xcafe", "0xDEADbeef"], True),
        (["0xcafe", "0xf00d"], False),
        ([], False),
    ],
)
def test_log_address_filter(address: str | list[str] | None, expected: bool) -> None:
    """``address`` is one address or any of several, compared case-insensitively."""
    assert expected == matches(log_sub(address=address), event(LOG))


@pytest.mark.parametrize(
    ("topics", "expected"),
    [
        ([], True),
        ([TOPIC_A.lower()], True),
        ([TOPIC_B], False),
        ([None, TOPIC_B], True),
        ([None, None], True),
        ([TOPIC_A, [TOPIC_C, TOPIC_B.lower()]], True),
        ([TOPIC_A, [TOPIC_C]], False),
        ([[TOPIC_B, TOPIC_A], None], True),
        ([TOPIC_A, TOPIC_B, None], True),
        ([TOPIC_A, TOPIC_B, TOPIC_C], False),
    ],
)
def test_log_topic_filter(topics: list[str | list[str] | None], expected: bool) -> None:
    """Topics match by position: None is a wildcard, a list is any-of, case-insensitive.

    A filter on a position the log does not have never matches; a wildcard there does.
    """
    assert expected == matches(log_sub(topics=topics), event(LOG))


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("sensor.reading", "sensor.reading", True),
        ("sensor.*", "sensor.reading", True),
        ("sensor.*", "sensor.", True),
        ("sensor.*", "sensors.reading", False),
        ("*", "anything", True),
        ("sensor.?", "sensor.a", True),
        ("sensor.?", "sensor.ab", False),
        ("sensor.[ab]", "sensor.b", True),
        ("Sensor.*", "sensor.reading", False),
    ],
)
def test_custom_name_globs(pattern: str, name: str, expected: bool) -> None:
    """Custom names use case-sensitive shell globs."""
    sub = CustomSubscription(kind="custom", name=pattern)
    assert expected == matches(sub, event(Custom(name, "", "")))


def test_matches_any_is_true_when_one_subscription_matches() -> None:
    """A module with several subscriptions gets an event if any of them matches."""
    subs: list[Subscription] = [
        BlockSubscription(kind="block", chain_id=5),
        CustomSubscription(kind="custom", name="sensor.*"),
    ]
    assert matches_any(subs, event(CUSTOM))
    assert not matches_any(subs, event(BLOCK))
    assert not matches_any([], event(CUSTOM))


@pytest.mark.parametrize(
    ("sub", "payload"),
    [
        (BlockSubscription(kind="block", chain_id=1, confirmations=12), BLOCK),
        (BlockSubscription(kind="block", chain_id=1), Block(1, 10, "0xh", "0xp", 0, 12)),
        (log_sub(confirmations=3), LOG),
        (log_sub(), Log(1, 10, "0xh", "0xt", 0, "0xdeadbeef", (), b"", confirmations=3)),
    ],
)
def test_a_chain_delivery_matches_only_subscriptions_of_its_depth(
    sub: Subscription, payload: Payload
) -> None:
    assert not matches(sub, event(payload))
    depth = payload.confirmations  # type: ignore[union-attr]
    assert matches(sub.model_copy(update={"confirmations": depth}), event(payload))


def test_a_modules_log_filters_are_built_once_not_per_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Matching a thousand logs builds each subscription's filter once, at compile time."""
    built: list[object] = []
    real = _matching.log_filter

    def counting(*args: Any) -> Any:
        built.append(args)
        return real(*args)

    monkeypatch.setattr(_matching, "log_filter", counting)
    matcher = SubscriptionMatcher([log_sub(topics=[TOPIC_A]), log_sub(address="0xdeadbeef")])
    assert all(matcher(event(LOG)) for _ in range(1000))
    assert 2 == len(built)


def test_custom_names_are_matched_against_every_glob() -> None:
    """Several custom subscriptions: a name matching any glob is the module's, others not."""
    matcher = SubscriptionMatcher(
        [CustomSubscription(kind="custom", name=n) for n in ("alert.*", "sensor.reading")]
    )
    names = ["alert.high", "sensor.reading", "sensor.other", "alert"]
    assert [True, True, False, False] == [matcher(event(Custom(n, "", ""))) for n in names]
    assert not matcher(event(BLOCK))


def test_a_send_confirmation_reaches_only_the_module_that_sent() -> None:
    """``cove.message-sent`` is the sender's: another module's ``*`` does not take it."""
    sent = event(Custom(MESSAGE_SENT, "alice", "{}"))
    exact = [CustomSubscription(kind="custom", name=MESSAGE_SENT)]
    every = [CustomSubscription(kind="custom", name="*")]
    assert SubscriptionMatcher(exact, module="alice")(sent)
    assert SubscriptionMatcher(every, module="alice")(sent)
    assert not SubscriptionMatcher(every, module="bob")(sent)
    assert not SubscriptionMatcher(exact, module="bob")(sent)
    assert not matches_any(exact, sent)  # no module: nobody's confirmation
    assert SubscriptionMatcher(every, module="bob")(event(Custom("other", "alice", "{}")))


def test_an_addressed_message_reaches_only_its_module() -> None:
    """A transport that decrypted a message for one module (nostr) names it: no other
    module's message subscription sees the plaintext."""
    dm = Event(Message("nostr", "npub1sender", "npub1bob", "secret", addressee="bob"))
    everything = [MessageSubscription(kind="message")]
    assert SubscriptionMatcher(everything, "bob")(dm)
    assert not SubscriptionMatcher(everything, "alice")(dm)
    assert not matches_any(everything, dm)


def test_select_keeps_what_each_event_matches_in_order() -> None:
    """A runner's read filtered at once: the same entries as one call per event, for
    repeated custom names, private confirmations (its own and another module's),
    other kinds, and names no glob takes."""
    subs: list[Subscription] = [
        CustomSubscription(kind="custom", name="bench.*"),
        CustomSubscription(kind="custom", name=MESSAGE_SENT),
        TickSubscription(kind="tick", schedule="*/5 * * * *"),
    ]
    matcher = SubscriptionMatcher(subs, "me")
    payloads: list[Payload] = [
        Custom("bench.tick", "", "{}"),
        Custom("other.thing", "", "{}"),
        Custom(MESSAGE_SENT, "me", "{}"),
        Custom(MESSAGE_SENT, "someone-else", "{}"),
        Custom("bench.tick", "", "{}"),
        TICK,
        BLOCK,
        Custom("bench.other", "", "{}"),
    ]
    entries = [JournalEntry(seq, Event(p)) for seq, p in enumerate(payloads, start=1)]
    chosen = matcher.select(entries)
    assert chosen == [e for e in entries if matcher(e.event)]
    assert [e.seq for e in chosen] == [1, 3, 5, 6, 8]


def test_select_without_custom_subscriptions_tests_each_event() -> None:
    matcher = SubscriptionMatcher([TickSubscription(kind="tick", schedule="*/5 * * * *")])
    entries = [JournalEntry(1, Event(TICK)), JournalEntry(2, Event(Custom("a", "", "")))]
    assert matcher.select(entries) == entries[:1]
