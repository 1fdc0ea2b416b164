"""Redact secrets from outbound messages and tool results (a native hook plugin).

Built-in patterns: 0x-prefixed 32-byte hex (Ethereum private keys), OpenAI
style ``sk-...`` keys, AWS access key ids, GitHub and Slack tokens, and
``Bearer`` tokens. ``[config] extra_patterns`` adds more.
"""

from __future__ import annotations

import re
from typing import Any

from cove import Plugin
from cove.plugin import PluginContext, Veto

PATTERNS = (
    r"\b0x[0-9a-fA-F]{64}\b",
    r"\bsk-[A-Za-z0-9_-]{20,}",
    r"\bAKIA[0-9A-Z]{16}\b",
    r"\bgh[pousr]_[A-Za-z0-9]{36,}",
    r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
    r"\b(?i:bearer)\s+[A-Za-z0-9._~+/-]{20,}=*",
)


def compile_patterns(extra: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in (*PATTERNS, *extra)))


class RedactSecrets(Plugin):
    def __init__(self) -> None:
        self.secrets = compile_patterns([])
        self.replacement = "[redacted]"
        self.veto = False

    def init(self, ctx: PluginContext) -> None:
        self.secrets = compile_patterns(list(ctx.config.get("extra_patterns", [])))
        self.replacement = str(ctx.config.get("replacement", "[redacted]"))
        self.veto = ctx.config.get("mode", "redact") == "veto"

    def on_hook(self, point: str, payload: Any) -> Any:
        if point == "before-message":
            found = self._count(payload["body"]) + sum(
                self._count(v) for _, v in payload["metadata"]
            )
            if not found:
                return None
            if self.veto:
                return Veto(f"{found} secret(s) in a message to {payload['recipient']}")
            payload["body"] = self._redact(payload["body"])
            payload["metadata"] = [[k, self._redact(v)] for k, v in payload["metadata"]]
            return payload
        if point == "after-tool-result":
            payload["result"] = self._walk(payload["result"])
            return payload
        return None

    def _count(self, text: str) -> int:
        return len(self.secrets.findall(text))

    def _redact(self, text: str) -> str:
        return self.secrets.sub(self.replacement, text)

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._redact(value)
        if isinstance(value, list):
            return [self._walk(v) for v in value]
        if isinstance(value, dict):
            return {k: self._walk(v) for k, v in value.items()}
        return value
