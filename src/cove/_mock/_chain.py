"""Canned chain answers for ``cove run --mock``: the fixture's ``[[chain]]`` entries as the node.

Design note: a module's chain calls take the engine's real path (capability
gate, granted chain ids, method policy, per-event cap, JSON-RPC envelopes
and one-POST batches); only the node is fake. Each chain gets a ``[[chains]]``
entry whose endpoint this transport answers, per call of a batch, from the
fixture. A call the fixture does not answer gets a JSON-RPC error naming the
chain, the method, its params and the fixture, with the entry to add; the
module sees it as ``invalid-input``, as it would a node's error. (Failing
the request instead would turn into retries and ``unavailable`` for the
whole batch, and hide which call was missing.)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from ._fixture import ChainFixture

_HOST_SUFFIX = ".chain.cove-mock.invalid"
UNKNOWN_CALL = -32601  # JSON-RPC "method not found"


def shadowed_chain(entries: list[ChainFixture], source: Path) -> list[str]:
    """A warning for each entry an earlier one hides: same chain, method and params."""
    first: dict[tuple[int, str, str], int] = {}
    warnings = []
    for index, entry in enumerate(entries):
        key = (entry.chain_id, entry.method, json.dumps(entry.params, sort_keys=True))
        if key in first:
            warnings.append(
                f"{source}: chain[{index}] ({entry.method} on chain {entry.chain_id}) is never "
                f"used: chain[{first[key]}] answers the same call first"
            )
        else:
            first[key] = index
    return warnings


class CannedChain:
    """Answers JSON-RPC for every chain a fixture or a module names."""

    def __init__(self, entries: list[ChainFixture], source: Path) -> None:
        self.entries = entries
        self.source = source

    def settings(self, declared: Iterable[int]) -> list[dict[str, Any]]:
        """``[[chains]]`` entries for the mock engine: the module's chains and the fixture's."""
        chain_ids = sorted(set(declared) | {e.chain_id for e in self.entries})
        return [
            {"chain_id": c, "http": f"http://{c}{_HOST_SUFFIX}/", "retry": {"attempts": 1}}
            for c in chain_ids
        ]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        chain_id = int(request.url.host.removesuffix(_HOST_SUFFIX))
        body = json.loads(request.content)
        if isinstance(body, list):
            return httpx.Response(200, json=[self.answer(chain_id, call) for call in body])
        return httpx.Response(200, json=self.answer(chain_id, body))

    def answer(self, chain_id: int, call: dict[str, Any]) -> dict[str, Any]:
        """The JSON-RPC response to one request object."""
        method, params = call.get("method"), call.get("params", [])
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": call.get("id")}
        found = self._find(chain_id, method, params)
        if found is None:
            reply["error"] = {
                "code": UNKNOWN_CALL,
                "message": self._missing(chain_id, method, params),
            }
        elif found.error is not None:
            reply["error"] = found.error.model_dump(exclude_none=True)
        else:
            reply["result"] = found.result
        return reply

    def _find(self, chain_id: int, method: Any, params: Any) -> ChainFixture | None:
        same = [e for e in self.entries if e.chain_id == chain_id and e.method == method]
        exact = (e for e in same if e.params is not None and e.params == params)
        return next(exact, next((e for e in same if e.params is None), None))

    def _missing(self, chain_id: int, method: Any, params: Any) -> str:
        return (
            f"no canned answer for {method} {json.dumps(params)} on chain {chain_id} in "
            f"{self.source} (add a [[chain]] entry with chain_id = {chain_id}, "
            f'method = "{method}" and a result)'
        )
