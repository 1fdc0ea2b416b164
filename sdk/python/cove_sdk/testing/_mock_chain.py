"""MockHost's ``chain``: canned JSON-RPC answers, the manifest's chain grant, every call recorded.

An answer is a JSON value or a function of the call's params; ``error=``
makes the node answer with a JSON-RPC error instead (``invalid-input``, as
the engine reports a revert). A method with no answer fails the whole call
``unavailable``, as http does without a canned response. The operator's
method policy is engine config, so it is not applied here.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Fail = Callable[[str, str], Exception]


@dataclass(frozen=True)
class RpcRequest:
    """One JSON-RPC call the module made; ``params`` decoded."""

    chain_id: int
    method: str
    params: Any


@dataclass(frozen=True)
class _Answer:
    result: Any
    error: str | None


class MockChain:
    """The two ``chain`` functions for one module."""

    def __init__(self, chains: list[int], fail: Fail) -> None:
        self._chains = tuple(chains)
        self._fail = fail
        self._answers: dict[str, _Answer] = {}
        self.requests: list[list[RpcRequest]] = []
        """One list per host call: ``request`` makes a list of one, ``request_batch`` of all."""

    def answer(self, method: str, result: Any = None, *, error: str | None = None) -> None:
        """Answer ``method`` with ``result`` (a JSON value, or ``fn(params)``) from now on."""
        self._answers[method] = _Answer(result, error)

    def bind(self, interface: Any, gate: Callable[[str, Callable[..., Any]], Any], ok: Any) -> None:
        """Put the fakes into the bindings' chain interface (``MockHost`` does this)."""

        def request(chain_id: int, method: str, params_json: str) -> str:
            (outcome,) = self._call(chain_id, [(method, params_json)])
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        def request_batch(chain_id: int, calls: list[Any]) -> list[Any]:
            outcomes = self._call(chain_id, [(c.method, c.params_json) for c in calls])
            return [o if isinstance(o, Exception) else ok(o) for o in outcomes]

        interface.request = gate("chain", request)
        interface.request_batch = gate("chain", request_batch)

    def _call(self, chain_id: int, calls: list[tuple[str, str]]) -> list[Any]:
        if chain_id not in self._chains:
            raise self._fail(
                "denied", f"chain {chain_id} is not granted: add it to [capabilities.chain] chains"
            )
        decoded = []
        for method, params_json in calls:
            try:
                decoded.append(RpcRequest(chain_id, method, json.loads(params_json)))
            except ValueError as exc:
                raise self._fail("invalid-input", f"chain: params are not JSON: {exc}") from None
        missing = [r.method for r in decoded if r.method not in self._answers]
        if missing:
            raise self._fail(
                "unavailable",
                f"chain: no answer for {missing[0]} (MockHost.chain.answer(...) adds one)",
            )
        self.requests.append(decoded)
        outcomes: list[Any] = []
        for req in decoded:
            answer = self._answers[req.method]
            if answer.error is not None:
                outcomes.append(self._fail("invalid-input", f"{req.method}: {answer.error}"))
                continue
            result = answer.result(req.params) if callable(answer.result) else answer.result
            outcomes.append(json.dumps(result))
        return outcomes
