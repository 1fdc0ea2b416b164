"""examples/redact_hook: the secret shapes it must catch, what it must leave alone, its modes."""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cove.plugin import Veto
from tests.helpers.modules import REPO

HEX_KEY = "0x" + "4c0883a691" * 6 + "02f3"
SECRETS = {
    "0x private key": HEX_KEY,
    "0x private key, upper case": "0X" + "AB" * 32,
    "OpenAI key": "sk-proj-" + "a1B2c3D4e5" * 4,
    "Anthropic key": "sk-ant-api03-" + "Zx9_" * 10,
    "Stripe secret key": "sk_live_" + "51Habc" * 4,
    "AWS access key id": "AKIAIOSFODNN7EXAMPLE",
    "AWS temporary key id": "ASIAIOSFODNN7EXAMPLE",
    "GitHub token": "ghp_" + "A1b2C3d4E5f6" * 3,
    "GitHub fine-grained token": "github_pat_11ABCDEFG0" + "x1Y2z3" * 5,
    "Slack token": "xoxb-1234567890-abcdefghij",
    "Google API key": "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"[:35],
    "JWT": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "Bearer token": "Bearer abcdefghijklmnopqrstuvwxyz012345",
    "PEM private key": "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\nIBCDEF==\n-----END EC PRIVATE KEY-----",
}
HARMLESS = [
    "an address 0x" + "ab" * 20,
    "a 20-byte hex 0x" + "12" * 20 + " and a selector 0xa9059cbb",
    "a longer hex blob 0x" + "ab" * 40,
    "task-123456789012345678901234 is not a key",
    "sk-short",
    "AKIA-not-a-key",
    "plain words about keys and tokens",
]


def load_example() -> ModuleType:
    path = REPO / "examples" / "redact_hook" / "redact.py"
    spec = importlib.util.spec_from_file_location("redact_hook_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLE = load_example()


def plugin(**config: Any) -> Any:
    hook = EXAMPLE.RedactSecrets()
    hook.init(SimpleNamespace(config=config))
    return hook


def message(body: str, metadata: list[list[str]] | None = None) -> dict[str, Any]:
    return {
        "module": "m",
        "transport": "chat",
        "recipient": "ops",
        "body": body,
        "metadata": metadata or [],
    }


@pytest.mark.parametrize("secret", SECRETS.values(), ids=SECRETS.keys())
def test_each_built_in_secret_shape_is_redacted_wherever_it_sits(secret: str) -> None:
    hook = plugin()
    body = f"deploy with key={secret}, then ({secret})\n{secret}"
    out = hook.on_hook("before-message", message(body, [["auth", secret]]))
    assert secret not in json.dumps(out)
    assert out["body"] == "deploy with key=[redacted], then ([redacted])\n[redacted]"
    assert out["metadata"] == [["auth", "[redacted]"]]


@pytest.mark.parametrize("text", HARMLESS)
def test_text_without_a_secret_passes_untouched(text: str) -> None:
    assert plugin().on_hook("before-message", message(text)) is None


@given(st.binary(min_size=32, max_size=32), st.sampled_from([" ", "_", "=", ":", '"', "\n"]))
def test_any_32_byte_0x_hex_is_redacted(key: bytes, before: str) -> None:
    secret = "0x" + key.hex()
    out = plugin().on_hook("before-message", message(f"pk{before}{secret}."))
    assert out["body"] == f"pk{before}[redacted]."


def test_tool_results_are_redacted_at_any_depth() -> None:
    result = {"wallet": {"keys": [HEX_KEY, "public"], "n": 3}, "note": f"token {SECRETS['JWT']}"}
    payload = {"module": "m", "tool": "t", "result": result}
    out = plugin(replacement="***").on_hook("after-tool-result", payload)
    assert out["result"] == {"wallet": {"keys": ["***", "public"], "n": 3}, "note": "token ***"}


def test_veto_mode_stops_a_message_with_a_secret_and_passes_one_without() -> None:
    hook = plugin(mode="veto")
    answer = hook.on_hook("before-message", message(f"key {HEX_KEY}"))
    assert isinstance(answer, Veto) and "1 secret(s)" in answer.reason
    assert hook.on_hook("before-message", message("nothing here")) is None


def test_extra_patterns_from_the_config_are_redacted_too() -> None:
    out = plugin(extra_patterns=[r"\bINTERNAL-\d{6}\b"]).on_hook(
        "before-message", message("ticket INTERNAL-123456")
    )
    assert out["body"] == "ticket [redacted]"


def test_before_init_it_fails_so_a_fail_closed_point_holds_the_message() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        EXAMPLE.RedactSecrets().on_hook("before-message", message(HEX_KEY))


def test_an_unknown_mode_is_refused_at_init() -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        plugin(mode="vetoo")
