"""`cove run --mock` http answers in turn (``times``), errors as answers, shadow warnings,
every http call with its status, and sends to transports the module does not name."""

from __future__ import annotations

from pathlib import Path

from tests.mock.test_run_mock import run_mock

POLLS = '\n[[events]]\nkind = "custom"\nname = "watch.poll"\n' * 4
PRICE = 'url = "https://api.example.com/price"'


def test_one_url_answers_in_turn_with_errors_and_statuses(tmp_path: Path) -> None:
    """Timeout, refused connection, 503, then 200 from then on: the module sees each in turn."""
    fixture = POLLS + "".join(
        f"\n[[http]]\n{PRICE}\n{answer}\n"
        for answer in (
            'times = 1\nerror = "timeout"',
            'times = 1\nerror = "connect"',
            "times = 1\nstatus = 503",
            "json = { price = 42 }",
        )
    )
    code, out = run_mock(tmp_path, fixture)
    assert 0 == code, out
    lines = [line.strip() for line in out.splitlines()]
    assert 'state  polls: (unset) → ["timeout"]' in lines
    assert (
        'state  polls: ["timeout", "unavailable", "503"] → ["timeout", "unavailable", "503", "200"]'
        in lines
    )
    assert "http   GET https://api.example.com/price → 503" in lines
    assert "http   GET https://api.example.com/price → 200" in lines
    timed_out = [line for line in lines if line.startswith("http   GET") and "→ timeout:" in line]
    assert 1 == len(timed_out), out
    refused = "connection refused (canned by fixture.toml http[1])"
    assert any("→ unavailable:" in line and refused in line for line in lines), out


def test_entries_with_times_run_out_with_a_message_naming_them(tmp_path: Path) -> None:
    fixture = POLLS + f"\n[[http]]\n{PRICE}\ntimes = 2\n"
    code, out = run_mock(tmp_path, fixture)
    assert 0 == code, out
    assert "are used up at request 3" in out
    assert "raise a `times`" in out


def test_an_entry_after_one_without_times_is_reported_as_shadowed(tmp_path: Path) -> None:
    fixture = POLLS + f"\n[[http]]\n{PRICE}\n\n[[http]]\n{PRICE}\nstatus = 500\n"
    code, out = run_mock(tmp_path, fixture)
    assert 0 == code, out
    assert "warning" in out
    assert "http[1] (GET https://api.example.com/price) is never used: http[0]" in out
    assert "give http[0] a `times`" in out


def test_an_error_answer_with_a_response_is_refused_naming_the_entry(tmp_path: Path) -> None:
    fixture = POLLS + f'\n[[http]]\n{PRICE}\nerror = "timeout"\nstatus = 500\n'
    code, out = run_mock(tmp_path, fixture)
    assert 1 == code
    assert "http[0]" in out and "drop status" in out


def test_a_send_to_a_transport_the_module_does_not_name_is_recorded_and_fails_the_run(
    tmp_path: Path,
) -> None:
    """The send is shown (not lost in retries), and the run exits 1 naming the transport."""
    fixture = '[[events]]\nkind = "custom"\nname = "watch.send"\npayload = "slack"\n'
    code, out = run_mock(tmp_path, fixture)
    assert 1 == code, out
    lines = [line.strip() for line in out.splitlines()]
    assert "send   slack → ops: hello" in lines
    assert "unknown transport 'slack'" in out
    assert "[capabilities.messaging] transports" in out
    assert "done: 1 handled, 0 failed, 0 not subscribed, 1 unknown transport(s)" in lines


def test_a_send_to_a_transport_the_manifest_names_is_recorded(tmp_path: Path) -> None:
    fixture = '[[events]]\nkind = "custom"\nname = "watch.send"\npayload = "slack"\n'
    manifest = Path(__file__).parents[1] / "assets" / "mock_native" / "cove.toml"
    named = manifest.read_text() + '\n[capabilities.messaging]\ntransports = ["slack"]\n'
    code, out = run_mock(tmp_path, fixture, manifest=named)
    assert 0 == code, out
    assert "send   slack → ops: hello" in out
    assert "unknown transport" not in out
