"""Does an event match one of a module's subscriptions?

A chain source delivers each block once per subscription depth
(``confirmations``), so a block or log matches only the subscriptions of its depth.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

from .._events import Block, Custom, Event, Lifecycle, Log, Message, Tick, Webhook
from .._log_filter import log_filter
from .._manifest import (
    BlockSubscription,
    CustomSubscription,
    LifecycleSubscription,
    LogSubscription,
    MessageSubscription,
    Subscription,
    TickSubscription,
    WebhookSubscription,
)


def matches_any(subscriptions: Sequence[Subscription], event: Event) -> bool:
    return any(matches(sub, event) for sub in subscriptions)


def matches(sub: Subscription, event: Event) -> bool:
    p = event.payload
    match sub:
        case BlockSubscription():
            return (
                isinstance(p, Block)
                and p.chain_id == sub.chain_id
                and p.confirmations == sub.confirmations
            )
        case LogSubscription():
            return (
                isinstance(p, Log) and p.confirmations == sub.confirmations and _log_matches(sub, p)
            )
        case TickSubscription():
            return isinstance(p, Tick) and p.schedule == sub.label
        case MessageSubscription():
            return isinstance(p, Message) and sub.transport in (None, p.transport)
        case WebhookSubscription():
            return isinstance(p, Webhook) and p.path == sub.path
        case CustomSubscription():
            return isinstance(p, Custom) and fnmatchcase(p.name, sub.name)
        case LifecycleSubscription():
            return isinstance(p, Lifecycle)


def _log_matches(sub: LogSubscription, log: Log) -> bool:
    """The chain source's own filter, so a module gets exactly what the node was asked for."""
    return sub.chain_id == log.chain_id and log_filter(sub.address, sub.topics).accepts(
        log.address, log.topics
    )
