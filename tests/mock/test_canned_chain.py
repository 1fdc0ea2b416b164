"""Canned chain answers: fixture parsing (TOML = JSON) and which entry answers a call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cove._mock._chain import UNKNOWN_CALL, CannedChain, shadowed_chain
from cove._mock._fixture import ChainFixture, load_fixture
from cove.errors import FixtureError
from tests.helpers.fakes import write_fixture

methods = st.sampled_from(["eth_call", "eth_getBalance", "eth_blockNumber"])
scalars = st.one_of(st.integers(-(2**53), 2**53), st.text(max_size=8), st.booleans())
params = st.lists(scalars, max_size=3)
results = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(), scalars))
entries = st.lists(
    st.fixed_dictionaries(
        {"method": methods, "result": results},
        optional={"chain_id": st.integers(1, 3), "params": params},
    ),
    max_size=6,
)


def fixture_with(chain: list[dict[str, Any]], suffix: str) -> list[ChainFixture]:
    data = {"events": [{"kind": "custom", "name": "x"}], "chain": chain}
    return load_fixture(write_fixture(data, suffix)).chain


@given(entries)
def test_toml_and_json_give_the_same_entries(chain: list[dict[str, Any]]) -> None:
    assert fixture_with(chain, ".toml") == fixture_with(chain, ".json")


@given(entries, st.integers(1, 3), methods, params)
def test_exact_params_win_then_any_params_then_a_named_error(
    chain: list[dict[str, Any]], chain_id: int, method: str, sent: list[Any]
) -> None:
    canned = CannedChain(fixture_with(chain, ".json"), Path("fx.toml"))
    reply = canned.answer(chain_id, {"id": 7, "method": method, "params": sent})
    assert 7 == reply["id"]
    same = [e for e in chain if e.get("chain_id", 1) == chain_id and e["method"] == method]
    exact = [e for e in same if e.get("params") == sent]
    loose = [e for e in same if "params" not in e]
    if exact or loose:
        assert (exact or loose)[0]["result"] == reply["result"]
    else:
        assert UNKNOWN_CALL == reply["error"]["code"]
        assert (
            f"no canned answer for {method} {json.dumps(sent)} on chain {chain_id}"
            in (reply["error"]["message"])
        )
        assert "fx.toml" in reply["error"]["message"]


def test_a_null_result_is_an_answer_in_json(tmp_path: Path) -> None:
    """A pending transaction's receipt is null; only JSON can say so."""
    [entry] = fixture_with([{"method": "eth_getTransactionReceipt", "result": None}], ".json")
    reply = CannedChain([entry], tmp_path).answer(1, {"id": 1, "method": entry.method})
    assert {"jsonrpc": "2.0", "id": 1, "result": None} == reply


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('method = "eth_call"', "chain[0]: Value error, give exactly one of `result` or `error`"),
        (
            'method = "eth_call"\nresult = "0x"\nerror = { message = "no" }',
            "chain[0]: Value error, give exactly one of `result` or `error`",
        ),
        ('method = "eth_call"\nerror = { code = 3 }', "chain[0].error.message: required key"),
        ('method = ""\nresult = 1', "chain[0].method: String should have at least 1 character"),
        ('method = "eth_call"\nparams = 5\nresult = 1', "chain[0].params"),
        ('method = "eth_call"\nchain_id = 0\nresult = 1', "chain[0].chain_id"),
    ],
)
def test_broken_chain_entries_say_what_and_where(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(f'[[events]]\nkind = "tick"\n[[chain]]\n{body}\n')
    with pytest.raises(FixtureError) as caught:
        load_fixture(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_an_entry_hidden_by_an_earlier_one_is_warned_about() -> None:
    """Same chain, method and params (in any key order): only the first ever answers."""
    entries = [
        ChainFixture(method="eth_call", params={"a": 1, "b": 2}, result="0x1"),
        ChainFixture(method="eth_call", params={"b": 2, "a": 1}, result="0x2"),
        ChainFixture(method="eth_call", params={"a": 1, "b": 2}, chain_id=5, result="0x3"),
        ChainFixture(method="eth_call", result="0x4"),
    ]
    [warning] = shadowed_chain(entries, Path("f.toml"))
    assert "f.toml: chain[1] (eth_call on chain 1) is never used: chain[0]" in warning
