"""examples/approvals under MockHost (no wasm): requests in, a UI document out, decisions back."""

from __future__ import annotations

import json

import jsonschema
from cove_sdk.testing import MockHost

from tests.helpers.modules import EXAMPLES, REPO

SCHEMA = json.loads((REPO / "docs" / "a2ui.schema.json").read_text())


def _request(host: MockHost, number: int, what: str) -> None:
    host.custom("approval.request", json.dumps({"id": str(number), "what": what, "by": "ana"}))


def test_the_inbox_shows_one_form_per_pending_request() -> None:
    host = MockHost(EXAMPLES / "approvals")
    _request(host, 1, "deploy v2")
    _request(host, 2, "refund 40 EUR")
    document = host.call_tool("inbox")
    jsonschema.validate(document, SCHEMA)
    forms = [c for c in document["components"] if c["type"] == "form"]
    assert ["request-1", "request-2"] == [f["id"] for f in forms]
    assert ["approve", "reject"] == [b["id"] for b in forms[0]["buttons"]]


def test_a_submitted_decision_leaves_the_inbox_and_is_listed_with_its_note() -> None:
    host = MockHost(EXAMPLES / "approvals")
    _request(host, 1, "deploy v2")
    host.ui_submit("request-1", {"note": "go ahead"}, button="approve")
    document = host.call_tool("inbox")
    assert not [c for c in document["components"] if c["type"] == "form"]
    table = next(c for c in document["components"] if c["type"] == "table")
    assert [["1", "deploy v2", "approved", "go ahead"]] == table["rows"]
    host.ui_submit("request-1", {"note": "again"}, button="reject")  # decided already: no change
    assert 1 == host.state["decided"]
