"""Signature and header parsing for the webhook server: properties over arbitrary input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cove._sources._webhook_auth import (
    Credentials,
    parse_bearer,
    parse_delivery_id,
    parse_signature,
    sign,
)

secrets = st.binary(min_size=1, max_size=64)
bodies = st.binary(max_size=512)
tokens = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=64)


@given(secrets, bodies)
def test_a_signature_parses_back_to_its_digest(secret: bytes, body: bytes) -> None:
    header = sign(secret, body)
    digest = parse_signature(header)
    assert digest is not None
    assert header == "sha256=" + digest.hex()
    assert digest == parse_signature(header.upper().replace("SHA256=", "sha256="))


@given(st.text(max_size=100))
def test_any_header_text_parses_or_is_refused_without_raising(value: str) -> None:
    digest = parse_signature(value)
    assert digest is None or len(digest) == 32
    token = parse_bearer(value)
    assert token is None or (token and " " not in token)
    delivery = parse_delivery_id(value)
    assert delivery is None or delivery == value


@given(secrets, bodies)
def test_the_right_signature_is_accepted(secret: bytes, body: bytes) -> None:
    assert Credentials(secret=secret).check(body, sign(secret, body), None) is None


@given(secrets, bodies, bodies)
def test_a_signature_of_another_body_is_refused(secret: bytes, body: bytes, other: bytes) -> None:
    reason = Credentials(secret=secret).check(body, sign(secret, other), None)
    assert (reason is None) == (body == other)


@given(secrets, secrets, bodies)
def test_a_signature_with_another_secret_is_refused(
    secret: bytes, other: bytes, body: bytes
) -> None:
    reason = Credentials(secret=secret).check(body, sign(other, body), None)
    assert (reason is None) == (secret == other)


@given(tokens, tokens)
def test_bearer_tokens_must_match_exactly(token: str, offered: str) -> None:
    credentials = Credentials(token=token)
    assert token == parse_bearer(f"Bearer {token}") == parse_bearer(f"bearer  {token}")
    accepted = credentials.check(b"", None, f"Bearer {offered}") is None
    assert accepted == (token == offered)


@given(bodies)
def test_with_credentials_a_bare_request_is_refused(body: bytes) -> None:
    for credentials in (Credentials(secret=b"k"), Credentials(token="t")):
        assert "missing" in (credentials.check(body, None, None) or "")


@given(bodies)
def test_without_credentials_everything_is_accepted(body: bytes) -> None:
    assert Credentials().check(body, None, None) is None
