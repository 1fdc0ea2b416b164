"""`cove run --mock`: a module on a real local engine, fed from a fixture, with a transcript."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from click.testing import CliRunner

from cove._cli._main import cli
from tests.helpers.modules import ASSETS

FIXTURE = """
start = 2026-03-01T12:00:00Z

[[events]]
kind = "block"
number = 7

[[events]]
kind = "log"
address = "0xabc"
data = "0x01ff"

[[events]]
kind = "tick"
after = "1m"

[[events]]
kind = "message"
sender = "bob"
body = "ping"

[[events]]
kind = "webhook"
path = "/hook"
body = "payload"

[[events]]
kind = "custom"
name = "other.thing"

[[http]]
url = "https://api.example.com/price"
json = { price = 42 }
"""


def run_mock(
    tmp_path: Path, fixture: str, suffix: str = ".toml", manifest: str | None = None
) -> tuple[int, str]:
    module = tmp_path / "watcher"
    shutil.copytree(ASSETS / "mock_native", module, ignore=shutil.ignore_patterns("__pycache__"))
    if manifest is not None:
        (module / "cove.toml").write_text(manifest)
    path = tmp_path / f"fixture{suffix}"
    path.write_text(textwrap.dedent(fixture))
    result = CliRunner().invoke(cli, ["run", "--mock", str(path), "--module", str(module)])
    return result.exit_code, result.output


def test_every_event_kind_and_its_effects_are_in_the_transcript(tmp_path: Path) -> None:
    code, out = run_mock(tmp_path, FIXTURE)
    assert 0 == code, out
    lines = [line.strip() for line in out.splitlines()]
    assert "▶ watcher (python) · 6 event(s) from" in out
    assert "[+0s] block #7 on chain 1 (0x00000000…)" in lines
    assert "state  height: (unset) → 7" in lines
    assert "[+0s] log 0xabc no topics in block 1" in lines
    assert 'emit   watch.transfer {"address":"0xabc","data":"01ff"}' in lines
    assert "✓ ok (emitted event)" in out  # the module subscribes to what it emitted
    assert "state  transfers: (unset) → 1" in lines
    assert "[+60s] tick 'every 1m'" in lines
    assert "log    info: price is 42" in lines
    assert "state  price: (unset) → 42" in lines
    assert "send   console → bob: echo: ping" in lines
    assert 'state  hook: (unset) → "payload"' in lines
    assert "not delivered: no subscription in cove.toml matches it" in out
    assert "done: 6 handled, 0 failed, 1 not subscribed" in lines


def test_a_failing_event_stops_the_run_with_its_error(tmp_path: Path) -> None:
    fixture = '[[events]]\nkind = "custom"\nname = "watch.fail"\n'
    code, out = run_mock(tmp_path, fixture)
    assert 1 == code
    assert "✗ failed" in out and "asked to fail" in out
    assert "done: 0 handled, 1 failed" in out


def test_http_without_a_canned_response_is_unavailable(tmp_path: Path) -> None:
    """The real allowlist and backend run; only the network is replaced."""
    code, out = run_mock(tmp_path, '[[events]]\nkind = "tick"\n')
    assert 1 == code
    assert "no canned response for GET https://api.example.com/price" in out


def test_json_fixtures_work_too(tmp_path: Path) -> None:
    fixture = '{"events": [{"kind": "message", "body": "hi", "sender": "eve"}]}'
    code, out = run_mock(tmp_path, fixture, ".json")
    assert 0 == code, out
    assert "send   console → eve: echo: hi" in out


def test_a_broken_fixture_names_file_and_key(tmp_path: Path) -> None:
    code, out = run_mock(tmp_path, '[[events]]\nkind = "message"\nbdy = "typo"\n')
    assert 1 == code
    assert "fixture.toml: 2 problem(s)" in out
    assert "events[0].body: required key is missing" in out
    assert "events[0].bdy: unknown key" in out
