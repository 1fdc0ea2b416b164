"""The Standard Webhooks scheme: cove's signer and verifier against the reference library, and junk input."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

import httpx
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook as ReferenceSigner

from cove._sources._webhook import WebhookTransport
from cove._sources._webhook_auth import Credentials
from cove._sources._webhook_standard import parse_secret, parse_timestamp, sign, signatures, verify

KEY = b"a-key-for-tests-0123456789abcdef"
KEY_TEXT = base64.b64encode(KEY).decode()


@given(st.text(max_size=300))
def test_any_header_or_secret_text_parses_or_is_refused_without_raising(value: str) -> None:
    assert all(len(d) == 32 for d in signatures(value))
    stamp = parse_timestamp(value)
    assert stamp is None or str(stamp) == value.lstrip("0") or set(value) == {"0"}
    key = parse_secret(value)
    assert key is None or len(key) > 0


@given(
    st.binary(max_size=256),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40),
)
def test_a_signature_verifies_only_for_its_id_timestamp_and_body(body: bytes, msg_id: str) -> None:
    now = int(time.time())
    header = sign(KEY, msg_id, now, body)
    assert verify([b"other", KEY], msg_id, str(now), header, body)
    assert not verify([KEY], msg_id + "x", str(now), header, body)
    assert not verify([KEY], msg_id, str(now + 1), header, body)
    assert not verify([KEY], msg_id, str(now), header, body + b"x")


def test_the_reference_library_and_cove_sign_alike() -> None:
    now = int(time.time())
    body = b'{"a": 1}'
    reference = ReferenceSigner(f"whsec_{KEY_TEXT}")
    assert reference.sign("m-1", datetime.fromtimestamp(now, UTC), body.decode()) == sign(
        KEY, "m-1", now, body
    )
    assert KEY == parse_secret(f"whsec_{KEY_TEXT}") == parse_secret(KEY_TEXT.rstrip("="))


def test_headers_alone_decide_a_stale_missing_or_malformed_signature() -> None:
    credentials = Credentials(standard=(KEY,), tolerance=300)
    now = time.time()
    entry = "v1," + "A" * 43 + "="  # well-formed; whether it matches needs the body
    fresh = {"webhook-id": "m", "webhook-timestamp": str(int(now)), "webhook-signature": entry}
    assert (None, True) == credentials.before_body(fresh, now)
    junk = {**fresh, "webhook-signature": "v1,x v2,abc"}
    refusal, _ = credentials.before_body(junk, now)
    assert refusal is not None and "no v1" in refusal
    stale = {**fresh, "webhook-timestamp": str(int(now) - 301)}
    refusal, _ = credentials.before_body(stale, now)
    assert refusal is not None and "tolerance" in refusal
    refusal, _ = credentials.before_body({}, now)
    assert refusal is not None and "missing webhook-id" in refusal


async def test_a_transport_signs_with_the_standard_scheme_the_reference_library_verifies() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    transport = WebhookTransport("out", "http://receiver.test/in", standard_key=KEY, client=client)
    await transport.send("bob", "hi", [], "recorder:e1:0")
    await transport.aclose()
    [request] = seen
    assert "recorder:e1:0" == request.headers["webhook-id"]
    ReferenceSigner(f"whsec_{KEY_TEXT}").verify(request.content, dict(request.headers))
    assert {"recipient": "bob", "body": "hi", "metadata": []} == json.loads(request.content)
