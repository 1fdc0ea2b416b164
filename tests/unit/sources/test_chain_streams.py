"""The chain source's pure parts: `ws` settings, depth streams, and its log filter vs the engine's."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cove._config_chain import ChainSettings
from cove._engine._matching import matches
from cove._events import Event, Log
from cove._manifest_subscriptions import BlockSubscription, LogSubscription
from cove._sources._chain import Stream, log_filter, streams

ADDRESSES = [
    "0x00000000000000000000000000000000000000aa",
    "0x00000000000000000000000000000000000000bB",
]
TOPICS = ["0x01", "0x02", "0x0A"]


@pytest.mark.parametrize("ws", ["ws://127.0.0.1:8545", ["wss://a.example/ws", "ws://b:1"]])
def test_ws_takes_one_endpoint_or_a_list(ws: str | list[str]) -> None:
    assert ChainSettings(chain_id=1, http="http://127.0.0.1:8545", ws=ws).ws == ws


def test_ws_refuses_an_http_url() -> None:
    with pytest.raises(ValidationError, match="ws"):
        ChainSettings(chain_id=1, http="http://127.0.0.1:8545", ws="http://127.0.0.1:8545")


def test_subscriptions_group_into_one_stream_per_depth() -> None:
    subs = [
        BlockSubscription(kind="block", chain_id=1),
        LogSubscription(kind="log", chain_id=1, address=ADDRESSES[0], confirmations=12),
        LogSubscription(kind="log", chain_id=1, address=ADDRESSES[0].upper(), confirmations=12),
        BlockSubscription(kind="block", chain_id=1, confirmations=3),
    ]
    assert streams(subs) == [
        Stream(0, blocks=True),
        Stream(3, blocks=True),
        Stream(12, blocks=False, filters=(log_filter(ADDRESSES[0], []),)),
    ]


addresses = st.one_of(
    st.none(), st.sampled_from(ADDRESSES), st.lists(st.sampled_from(ADDRESSES), min_size=1)
)
topic_filters = st.lists(
    st.one_of(st.none(), st.sampled_from(TOPICS), st.lists(st.sampled_from(TOPICS), min_size=1)),
    max_size=3,
)
raw_logs = st.fixed_dictionaries(
    {
        "address": st.sampled_from(ADDRESSES).map(lambda a: a.upper().replace("0X", "0x")),
        "topics": st.lists(st.sampled_from(TOPICS).map(str.upper), max_size=3),
    }
)


@given(addresses, topic_filters, raw_logs)
def test_the_source_filter_agrees_with_the_engine_matcher(
    address: Any, topics: Any, entry: dict[str, Any]
) -> None:
    """A log the source publishes for a depth is one its subscriptions match, and vice versa."""
    sub = LogSubscription(kind="log", chain_id=1, address=address, topics=topics)
    log = Log(1, 1, "0xb", "0xt", 0, entry["address"].lower(), tuple(entry["topics"]), b"")
    engine_says = matches(sub, Event(log, id="e", accepted_at_ms=0))
    assert log_filter(address, topics).matches(entry) == engine_says
