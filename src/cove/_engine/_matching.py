"""Does an event match one of a module's subscriptions?

A chain source delivers each block once per subscription depth
(``confirmations``), so a block or log matches only the subscriptions of its depth.

A runner asks this for every journaled event, so a module's subscriptions
are compiled once (``SubscriptionMatcher``): tests grouped by payload type,
each log filter built once rather than per log, and a custom event's name
checked against the globs once per distinct name.

A ``cove.message-sent`` confirmation belongs to the module that sent the
message (its ``source``): it matches that module's subscriptions only, never
another module's glob, so a module's recipients stay its own. Likewise a
``message`` with an ``addressee`` (decrypted for one module's key) matches
that module only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase
from typing import Any, Protocol, TypeVar

from .._events import (
    ALARM,
    APPROVAL,
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
from .._log_filter import log_filter
from .._manifest_subscriptions import (
    BlockSubscription,
    CustomSubscription,
    LifecycleSubscription,
    LogSubscription,
    MessageSubscription,
    Subscription,
    TickSubscription,
    WebhookSubscription,
)

_NAME_CACHE = 4096
"""Distinct custom event names remembered per module (names are few; a bound all the same)."""

Test = Callable[[Any], bool]


class _HasEvent(Protocol):
    @property
    def event(self) -> Event: ...


E = TypeVar("E", bound=_HasEvent)


_PRIVATE = frozenset({MESSAGE_SENT, APPROVAL, ALARM})
"""Engine events only the module named as their source receives."""


PRIVATE = _PRIVATE
"""For the engine's wake index: the same set."""


class SubscriptionMatcher:
    """A module's subscriptions compiled into tests by payload type; call it with an event."""

    def __init__(self, subscriptions: Sequence[Subscription], module: str = "") -> None:
        self._module = module
        tests: dict[type, list[Test]] = {}
        globs: list[str] = []
        for sub in subscriptions:
            if isinstance(sub, CustomSubscription):
                globs.append(sub.name)
            else:
                payload_type, test = _compile(sub)
                tests.setdefault(payload_type, []).append(test)
        if globs:
            names = tuple(globs)
            tests[Custom] = [
                functools.lru_cache(maxsize=_NAME_CACHE)(
                    lambda name: any(fnmatchcase(name, glob) for glob in names)
                )
            ]
        self._tests = {kind: tuple(found) for kind, found in tests.items()}

    def kinds(self) -> frozenset[type]:
        """The payload types any of its subscriptions takes."""
        return frozenset(self._tests)

    def __call__(self, event: Event) -> bool:
        payload = event.payload
        tests = self._tests.get(type(payload))
        if tests is None:
            return False
        if type(payload) is Custom:
            if payload.name in _PRIVATE and (not self._module or payload.source != self._module):
                return False
            return bool(tests[0](payload.name))
        if type(payload) is Message and payload.addressee and payload.addressee != self._module:
            return False
        return any(test(payload) for test in tests)

    def select(self, entries: list[E]) -> list[E]:
        """The entries whose events match, in order: what a runner keeps of one read.

        A read is mostly one or a few custom names, so each public name is tested
        once per read, not once per entry (the call per entry cost ~0.5 µs).
        """
        custom = self._tests.get(Custom)
        if custom is None:
            return [entry for entry in entries if self(entry.event)]
        test = custom[0]
        seen: dict[str, bool] = {}
        out: list[E] = []
        for entry in entries:
            payload = entry.event.payload
            if type(payload) is Custom and payload.name not in _PRIVATE:
                name = payload.name
                ok = seen.get(name)
                if ok is None:
                    ok = seen[name] = bool(test(name))
            else:
                ok = self(entry.event)
            if ok:
                out.append(entry)
        return out


def _compile(sub: Subscription) -> tuple[type[Payload], Test]:
    """The payload type a (non-custom) subscription takes, and its test of one payload."""
    match sub:
        case BlockSubscription(chain_id=chain_id, confirmations=depth):
            return Block, lambda p: p.chain_id == chain_id and p.confirmations == depth
        case LogSubscription(chain_id=chain_id, confirmations=depth):
            accepts = log_filter(sub.address, sub.topics).accepts
            return (
                Log,
                lambda p: (
                    p.chain_id == chain_id
                    and p.confirmations == depth
                    and accepts(p.address, p.topics)
                ),
            )
        case TickSubscription():
            label = sub.label
            return Tick, lambda p: p.schedule == label
        case MessageSubscription(transport=transport):
            return Message, lambda p: transport in (None, p.transport)
        case WebhookSubscription(path=path):
            return Webhook, lambda p: p.path == path
        case LifecycleSubscription():
            return Lifecycle, lambda p: True
    raise AssertionError(f"no test for subscription kind {sub.kind!r}")


def matches_any(subscriptions: Sequence[Subscription], event: Event, module: str = "") -> bool:
    """One-off matching (``cove run --mock``, tests); a runner keeps a ``SubscriptionMatcher``."""
    return SubscriptionMatcher(subscriptions, module)(event)


def matches(sub: Subscription, event: Event) -> bool:
    return SubscriptionMatcher([sub])(event)
