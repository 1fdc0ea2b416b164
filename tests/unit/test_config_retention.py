"""Engine config for outbox delivery limits and [retention]: defaults, units, refusals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cove._config import EngineConfig


def test_defaults_bound_retries_and_keep_a_week_of_journal() -> None:
    config = EngineConfig()
    assert (20, "24h", {}) == (
        config.outbox.max_attempts,
        config.outbox.max_age,
        config.outbox.transports,
    )
    retention = config.retention
    assert ("7d", 1 << 30, "1h", "30d", "1m") == (
        retention.journal_max_age,
        retention.journal_max_bytes,
        retention.delivered_max_age,
        retention.dead_max_age,
        retention.interval,
    )


def test_per_transport_limits_and_sizes_take_units() -> None:
    config = EngineConfig.model_validate(
        {
            "outbox": {"transports": {"chat": {"max_attempts": 3, "max_age": "10m"}}},
            "retention": {"journal_max_size": "64MiB"},
        }
    )
    chat = config.outbox.transports["chat"]
    assert (3, "10m") == (chat.max_attempts, chat.max_age)
    assert 64 << 20 == config.retention.journal_max_bytes


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"outbox": {"max_attempts": 0}}, "outbox.max_attempts"),
        (
            {"outbox": {"transports": {"chat": {"max_age": "soon"}}}},
            "outbox.transports.chat.max_age",
        ),
        ({"outbox": {"transports": {"chat": {"retries": 3}}}}, "outbox.transports.chat.retries"),
        ({"retention": {"journal_max_size": "12"}}, "retention.journal_max_size"),
        ({"retention": {"interval": "0ms"}}, "retention.interval"),
    ],
)
def test_bad_limits_are_refused_naming_the_key(fields: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError) as info:
        EngineConfig.model_validate(fields)
    where = {".".join(str(p) for p in e["loc"]) for e in info.value.errors()}
    assert says in where
