"""Host-call summaries (what trajectories store) never carry URL credentials or queries."""

from __future__ import annotations

import pytest

from cove._capabilities._http import HttpRequest
from tests.unit.capabilities.test_calls import FakeHttp, host_calls


@pytest.mark.parametrize(
    ("url", "summary"),
    [
        ("https://api.test/x", "GET https://api.test/x → 200"),
        ("https://api.test:8443/v1/a?api_key=s3cret", "GET https://api.test:8443/v1/a?… → 200"),
        ("https://user:s3cret@api.test/x#frag", "GET https://api.test/x → 200"),
        ("not a url", "GET (unparsable url) → 200"),
        ("https://api.test:99999/x", "GET (unparsable url) → 200"),
    ],
)
def test_http_summary_keeps_scheme_host_and_path_only(url: str, summary: str) -> None:
    calls = host_calls(declared={"http"}, http=FakeHttp())
    calls.http_fetch(HttpRequest("GET", url))
    assert summary == calls.records[0].summary
    assert "s3cret" not in calls.records[0].summary
