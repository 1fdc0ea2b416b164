"""`cove run --mock` with canned chain answers: a chain module runs without a node."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from cove._cli._main import cli
from tests.helpers.modules import ASSETS, CACHE

ANSWERS = """
[[chain]]
method = "eth_getBalance"
params = ["0xabc", "0x7"]
result = "0x2a"

[[chain]]
method = "eth_getBalance"
result = "0x0"

[[chain]]
method = "eth_blockNumber"
result = "0x7"

[[chain]]
method = "eth_call"
result = "0x00ff"

[[chain]]
method = "eth_estimateGas"
error = { code = 3, message = "execution reverted" }
"""


def run_mock(tmp_path: Path, fixture: str) -> tuple[int, str]:
    module = tmp_path / "reader"
    shutil.copytree(ASSETS / "mock_chain", module, ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path / "fixture.toml"
    path.write_text(textwrap.dedent(fixture))
    result = CliRunner().invoke(cli, ["run", "--mock", str(path), "--module", str(module)])
    return result.exit_code, result.output


def test_calls_and_batches_get_the_canned_answers_params_first(tmp_path: Path) -> None:
    events = '[[events]]\nkind = "block"\nnumber = 7\n\n[[events]]\nkind = "block"\nnumber = 8\n'
    code, out = run_mock(tmp_path, events + ANSWERS)
    assert 0 == code, out
    lines = [line.strip() for line in out.splitlines()]
    assert "chain  1 eth_getBalance" in lines
    assert "chain  1 eth_blockNumber,eth_call" in lines  # one batch
    assert "state  balance: (unset) → 42" in lines  # the entry with matching params
    assert 'state  seen: (unset) → ["0x7", "0x00ff"]' in lines
    assert "state  balance: 42 → 0" in lines  # other params: the entry without params
    assert "done: 2 handled, 0 failed, 0 not subscribed" in lines


def test_a_canned_error_reaches_the_module_as_the_nodes_error(tmp_path: Path) -> None:
    code, out = run_mock(
        tmp_path, '[[events]]\nkind = "custom"\nname = "read.reverted"\n' + ANSWERS
    )
    assert 0 == code, out
    assert "eth_estimateGas: execution reverted (code 3)" in out


def test_a_call_without_a_canned_answer_fails_naming_the_method(tmp_path: Path) -> None:
    code, out = run_mock(tmp_path, '[[events]]\nkind = "custom"\nname = "read.gas"\n' + ANSWERS)
    assert 1 == code
    assert "✗ failed" in out
    assert "no canned answer for eth_gasPrice [] on chain 1" in out
    assert 'add a [[chain]] entry with chain_id = 1, method = "eth_gasPrice"' in out


def test_the_engine_method_policy_still_applies(tmp_path: Path) -> None:
    """Only the node is fake: a method the engine denies is refused, canned answer or not."""
    events = '[[events]]\nkind = "custom"\nname = "read.sign"\n'
    code, out = run_mock(tmp_path, events + '[[chain]]\nmethod = "eth_sign"\nresult = "0x1"\n')
    assert 1 == code
    assert "error  chain.request: denied: chain 1: method 'eth_sign' is not allowed" in out


GUEST_MANIFEST = """
[module]
name = "helpers"
version = "0.1.0"
kind = "wasm"
component = "helpers.wasm"
sha256 = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

[capabilities]
required = ["store", "chain"]

[capabilities.chain]
chains = [1]

[[subscription]]
kind = "block"
chain_id = 1
"""


def test_a_python_guest_using_the_sdk_chain_helpers_runs_without_a_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built with componentize-py (cached), run on the real engine, answered from [[chain]]."""
    monkeypatch.setenv("COVE_BUILD_CACHE", str(CACHE / "builds"))
    module = tmp_path / "helpers"
    module.mkdir()
    (module / "cove.toml").write_text(GUEST_MANIFEST)
    shutil.copyfile(ASSETS / "chain_helpers" / "app.py", module / "app.py")
    fixture = tmp_path / "fixture.toml"
    fixture.write_text(
        '[[events]]\nkind = "block"\nnumber = 7\n'
        '[[chain]]\nmethod = "eth_getBalance"\nparams = ["0xabc", "0x7"]\nresult = "0x2a"\n'
        '[[chain]]\nmethod = "eth_blockNumber"\nresult = "0x7"\n'
        '[[chain]]\nmethod = "eth_call"\nparams = [{ to = "0x00000000000000000000000000000000000000aa", '
        'data = "0x18160ddd" }, "latest"]\nresult = "0x64"\n'
    )
    result = CliRunner().invoke(cli, ["run", "--mock", str(fixture), "--module", str(module)])
    assert 0 == result.exit_code, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert "chain  1 eth_getBalance" in lines
    assert "chain  1 eth_blockNumber,eth_call" in lines
    # The revert probe's eth_call (other params) has no answer: invalid-input, caught.
    assert (
        'state  seen: (unset) → {"balance": 42, "head": 7, "supply": 100, "revert": "invalid-input"}'
        in lines
    )
