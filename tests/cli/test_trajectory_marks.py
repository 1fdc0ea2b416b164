"""One trajectory line per event in ``cove run`` and ``cove trace``: its outcome at a glance."""

from __future__ import annotations

import pytest

from cove._cli._run import _print_trajectory
from cove._cli._trace import print_trajectory
from cove._engine._trajectory import Trajectory

SKIPPED = Trajectory("flaky", "evt-1", 3, "skipped", "skipped by the operator", (), 0, 0)


def test_cove_run_shows_a_skipped_event_as_skipped_not_as_a_failed_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _print_trajectory(SKIPPED)
    out = capsys.readouterr().out
    assert "↷ flaky skipped evt-1" in out and "✗" not in out


def test_cove_trace_shows_a_skipped_event_as_skipped_not_as_a_failed_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    record = {"at_ms": SKIPPED.at_ms, "module": "flaky", "event_id": "evt-1", "outcome": "skipped",
              "error": SKIPPED.error, "wall_ns": 0, "fuel": 0, "calls": []}  # fmt: skip
    print_trajectory(record, verbose=False)
    out = capsys.readouterr().out
    assert "↷ flaky evt-1" in out and "✗" not in out
