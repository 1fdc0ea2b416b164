"""Redact secrets from outbound messages and tool results (a native hook plugin).

Built-in patterns (``PATTERNS``): 0x-prefixed 32-byte hex (Ethereum private
keys; a redactor cannot tell them from a transaction hash or any bytes32, so
those go too), PEM private key blocks, JSON Web Tokens, ``Bearer`` tokens and
the API keys of OpenAI/Anthropic (``sk-``), Stripe, AWS, GitHub, Slack and
Google. ``[config] extra_patterns`` adds more.

``on_hook`` may be called before ``init`` has read the config; until then it
raises, so under the default fail-closed policy the message or result waits
instead of going out with only the built-in patterns applied.
"""

from __future__ import annotations

import re
from typing import Any

from cove import Plugin
from cove.plugin import PluginContext, Veto

# Bounded by anything but a letter or digit: "key_0x..." and "pk=0x..." both count.
_HEX_KEY = r"(?<![0-9A-Za-z])0[xX][0-9a-fA-F]{64}(?![0-9A-Za-z])"
PATTERNS = (
    _HEX_KEY,
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    r"\b(?i:bearer)\s+[A-Za-z0-9._~+/-]{20,}=*",
    r"\bsk-[A-Za-z0-9_-]{20,}",
    r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}",
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    r"\bgh[pousr]_[A-Za-z0-9]{36,}",
    r"\bgithub_pat_[A-Za-z0-9_]{22,}",
    r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
    r"\bAIza[0-9A-Za-z_-]{35}",
)
MODES = ("redact", "veto")


def compile_patterns(extra: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in (*PATTERNS, *extra)))


class RedactSecrets(Plugin):
    def __init__(self) -> None:
        self.secrets: re.Pattern[str] | None = None  # set by init
        self.replacement = "[redacted]"
        self.veto = False

    def init(self, ctx: PluginContext) -> None:
        mode = ctx.config.get("mode", "redact")
        if mode not in MODES:
            raise ValueError(f"redact_hook: [config] mode must be one of {MODES}, not {mode!r}")
        self.replacement = str(ctx.config.get("replacement", "[redacted]"))
        self.veto = mode == "veto"
        self.secrets = compile_patterns(list(ctx.config.get("extra_patterns", [])))

    def on_hook(self, point: str, payload: Any) -> Any:
        secrets = self.secrets
        if secrets is None:
            raise RuntimeError("redact_hook is not initialized yet (its patterns are not read)")
        if point == "before-message":
            texts = [payload["body"], *(v for _, v in payload["metadata"])]
            found = sum(len(secrets.findall(t)) for t in texts)
            if not found:
                return None
            if self.veto:
                return Veto(f"{found} secret(s) in a message to {payload['recipient']}")
            payload["body"] = secrets.sub(self.replacement, payload["body"])
            payload["metadata"] = [
                [k, secrets.sub(self.replacement, v)] for k, v in payload["metadata"]
            ]
            return payload
        if point == "after-tool-result":
            payload["result"] = self._walk(secrets, payload["result"])
            return payload
        return None

    def _walk(self, secrets: re.Pattern[str], value: Any) -> Any:
        if isinstance(value, str):
            return secrets.sub(self.replacement, value)
        if isinstance(value, list):
            return [self._walk(secrets, v) for v in value]
        if isinstance(value, dict):
            return {k: self._walk(secrets, v) for k, v in value.items()}
        return value
