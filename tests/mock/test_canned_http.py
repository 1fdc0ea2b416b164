"""Canned http answers: entries for one method and URL answer in turn, as ``times`` says."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cove._mock._fixture import HttpFixture
from cove._mock._http import CannedHttp, shadowed

URL = "https://api.test/x"
SOURCE = Path("fixture.toml")


def answers(canned: CannedHttp, calls: int) -> list[int | str]:
    client = httpx.Client(transport=canned.transport())
    seen: list[int | str] = []
    for _ in range(calls):
        try:
            seen.append(client.get(URL).status_code)
        except httpx.TimeoutException:
            seen.append("timeout")
        except httpx.ConnectError as exc:
            text = str(exc)
            seen.append(
                "used up" if "used up" in text else "none" if "no canned" in text else "connect"
            )
    return seen


@given(st.lists(st.tuples(st.integers(1, 3), st.integers(200, 599)), max_size=4), st.booleans())
def test_entries_answer_in_turn_times_each_then_the_last_forever(
    limited: list[tuple[int, int]], open_ended: bool
) -> None:
    entries = [HttpFixture(url=URL, times=n, status=s) for n, s in limited]
    expected: list[int | str] = [s for n, s in limited for _ in range(n)]
    if open_ended:
        entries.append(HttpFixture(url=URL, status=201))
        expected += [201, 201]
    else:
        expected.append("used up" if limited else "none")
    assert expected == answers(CannedHttp(entries, SOURCE), len(expected))
    assert [] == shadowed(entries, SOURCE)


def test_errors_are_answers_too() -> None:
    entries = [
        HttpFixture(url=URL, times=1, error="timeout"),
        HttpFixture(url=URL, times=1, error="connect"),
        HttpFixture(url=URL),
    ]
    assert ["timeout", "connect", 200] == answers(CannedHttp(entries, SOURCE), 3)


def test_only_entries_after_an_open_ended_one_are_shadowed() -> None:
    entries = [
        HttpFixture(url=URL, times=2),
        HttpFixture(url=URL),
        HttpFixture(url=URL, status=500),
        HttpFixture(url=URL, method="POST"),
    ]
    [warning] = shadowed(entries, SOURCE)
    assert warning.startswith("fixture.toml: http[2] (GET https://api.test/x) is never used")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"error": "timeout", "json": {"a": 1}}, "drop json"),
        ({"body": "x", "json": 1}, "not both"),
        ({"error": "refused"}, "'timeout' or 'connect'"),
        ({"times": 0}, "greater than or equal to 1"),
    ],
)
def test_contradictory_entries_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HttpFixture.model_validate({"url": URL, **fields})
