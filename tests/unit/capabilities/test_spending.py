"""Operator budgets in the capability gate: windows, the refusal naming the budget, the
hook trigger, and transactions and wei counted before any chain call (the chain part runs
here against an unreachable node; the messaging part runs on a real engine in
tests/integration/test_budgets.py)."""

from __future__ import annotations

import json

import pytest

from cove._capabilities._chain import ChainBackend
from cove._capabilities._spending import Spending, state_key
from cove._config_budgets import ModuleBudget
from cove._config_chain import ChainSettings
from cove.errors import HostCallError
from tests.unit.capabilities.test_identity import gate

TO = "0x" + "11" * 20
UNREACHABLE = ChainBackend([ChainSettings(chain_id=31337, http="http://127.0.0.1:1")])


class Sources:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def source_state(self, source: str) -> str | None:
        return self.values.get(source)

    def set_source_state(self, source: str, value: str) -> None:
        self.values[source] = value


def test_a_charge_past_the_budget_names_it_and_the_key() -> None:
    spending = Spending("agent", ModuleBudget(messages_per_hour=2), Sources())
    usage: dict[str, int] = {}
    spending.charge(usage, "messages", 1)
    spending.charge(usage, "messages", 1)
    with pytest.raises(HostCallError) as caught:
        spending.charge(usage, "messages", 1)
    assert "limit-exceeded" == caught.value.kind
    assert "budget messages" in caught.value.message
    assert "[budgets.agent] messages_per_hour" in caught.value.message
    assert {"messages": 2} == usage


def test_usage_counts_only_once_committed_and_is_read_back() -> None:
    store = Sources()
    now = [7200.0]
    spending = Spending("agent", ModuleBudget(messages_per_hour=5), store, clock=lambda: now[0])
    spending.charge({}, "messages", 3)  # an event that rolled back: never committed
    assert 0 == spending.used("messages")
    spending.commit({"messages": 3, "http_requests": 9})  # no http budget: not kept
    assert {"messages": [7200, 3]} == json.loads(store.values[state_key("agent")])
    again = Spending("agent", ModuleBudget(messages_per_hour=5), store, clock=lambda: now[0])
    assert 3 == again.used("messages")
    now[0] += 3600  # the next hour: a new window
    assert 0 == again.used("messages")
    assert {"used": 0, "limit": 5, "window_ends_ms": 14_400_000} == again.report()["messages"]


def test_the_hook_trigger_fires_once_per_window() -> None:
    seen: list[tuple[str, str, int]] = []
    now = [0.0]
    spending = Spending(
        "agent",
        ModuleBudget(http_requests_per_day=0),
        Sources(),
        lambda *args: seen.append(args),
        clock=lambda: now[0],
    )
    for _ in range(3):
        with pytest.raises(HostCallError):
            spending.charge({}, "http_requests", 1)
    assert [("agent", "http_requests", 0)] == seen
    now[0] += 86400
    with pytest.raises(HostCallError):
        spending.charge({}, "http_requests", 1)
    assert 2 == len(seen)


def test_fuel_is_exhausted_once_spent() -> None:
    spending = Spending("agent", ModuleBudget(fuel_per_hour=100), Sources())
    assert spending.exhausted("fuel") is None
    spending.commit({"fuel": 120})  # the event that crossed it finished
    why = spending.exhausted("fuel")
    assert why is not None and "[budgets.agent] fuel_per_hour" in why


def test_transactions_and_value_are_refused_before_any_chain_call() -> None:
    calls = gate(["send-transaction"], chains=[31337])
    calls.chain = UNREACHABLE
    calls.spending = Spending(
        "watcher", ModuleBudget(transactions_per_day=1, value_wei_per_day=10), Sources()
    )
    with pytest.raises(HostCallError) as caught:
        calls.identity_send_transaction(31337, json.dumps({"to": TO, "value": 11}))
    assert "budget value_wei" in caught.value.message
    assert {} == calls.effects.usage  # refused as a whole: the transaction is not counted
    # Within budget: counted, then the (unreachable) node fails the send itself.
    with pytest.raises(HostCallError) as caught:
        calls.identity_send_transaction(31337, json.dumps({"to": TO, "value": "0x5"}))
    assert "budget" not in caught.value.message
    assert {"transactions": 1, "value_wei": 5} == calls.effects.usage
    with pytest.raises(HostCallError, match="budget transactions"):
        calls.identity_send_transaction(31337, json.dumps({"to": TO, "value": 0}))


def test_chain_requests_count_each_call_of_a_batch() -> None:
    calls = gate(["address"], chains=[31337])
    calls.chain = UNREACHABLE
    calls.spending = Spending("watcher", ModuleBudget(chain_requests_per_day=2), Sources())
    with pytest.raises(HostCallError, match="budget chain_requests"):
        calls.chain_request_batch(31337, [("eth_blockNumber", "[]")] * 3)
    assert {} == calls.effects.usage
