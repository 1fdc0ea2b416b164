"""MockHost's ``identity``: a fixed test key, the engine's method and chain checks.

Signatures are real (eth-account, as in the engine), so a test can recover
them; transactions are signed but not broadcast: they are recorded, and
the hash returned is the signed transaction's real hash. Like the engine's,
a send happens at once and is not rolled back when the handler fails.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MOCK_KEY = "0x" + "c0ffee00" * 8
"""The private key MockHost signs with (a test key: never fund it on a real chain)."""
DEFAULT_METHODS = ("address", "sign-message", "sign-typed-data")
_FILLS = {"gas": 21_000, "maxFeePerGas": 2_000_000_000, "maxPriorityFeePerGas": 1}

Fail = Callable[[str, str], Exception]


@dataclass(frozen=True)
class SentTransaction:
    """A transaction the module sent: the chain, the filled-in fields, the hash it got."""

    chain_id: int
    tx: dict[str, Any]
    hash: str


class MockIdentity:
    """The four ``identity`` functions for one module."""

    def __init__(
        self, module: str, methods: list[str], chains: list[int], key: str, fail: Fail
    ) -> None:
        from eth_account import Account  # cove installs it; the SDK itself needs nothing

        self._account = Account.from_key(key)
        self._module = module
        self._methods = tuple(methods)
        self._chains = tuple(chains)
        self._fail = fail
        self.address: str = self._account.address
        self.sent: list[SentTransaction] = []

    def bind(self, interface: Any, gate: Callable[[str, Callable[..., Any]], Any]) -> None:
        interface.address = gate("identity", self._allowed("address", lambda: self.address))
        interface.sign_message = gate("identity", self._allowed("sign-message", self._sign))
        interface.sign_typed_data = gate("identity", self._allowed("sign-typed-data", self._typed))
        interface.send_transaction = gate("identity", self._allowed("send-transaction", self._send))

    def _allowed(self, method: str, run: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            if method not in self._methods:
                raise self._fail(
                    "denied",
                    f"identity: module {self._module!r} may not call {method!r} (its manifest's "
                    f"[capabilities.identity] methods are {list(self._methods)})",
                )
            return run(*args)

        return call

    def _sign(self, message: bytes) -> str:
        from eth_account.messages import encode_defunct

        signed = self._account.sign_message(encode_defunct(primitive=bytes(message)))
        return str(signed.signature.to_0x_hex())

    def _typed(self, typed_data_json: str) -> str:
        from eth_account.messages import encode_typed_data

        try:
            data = json.loads(typed_data_json)
            signed = self._account.sign_message(encode_typed_data(full_message=data))
        except (ValueError, TypeError, LookupError) as exc:
            raise self._fail(
                "invalid-input", f"identity: typed data does not fit EIP-712: {exc!r}"
            ) from None
        return str(signed.signature.to_0x_hex())

    def _send(self, chain_id: int, tx_json: str) -> str:
        if chain_id not in self._chains:
            raise self._fail(
                "denied",
                f"chain: chain {chain_id} is not granted to module {self._module!r} "
                f"(granted: {list(self._chains)})",
            )
        try:
            tx = dict(json.loads(tx_json))
        except (ValueError, TypeError) as exc:
            raise self._fail(
                "invalid-input", f"identity: transaction is not a JSON object: {exc}"
            ) from None
        tx.pop("from", None)
        fills = {**_FILLS, "nonce": len(self.sent), "chainId": chain_id}
        if "gasPrice" in tx:
            fills = {k: v for k, v in fills.items() if not k.startswith("max")}
        tx = {**fills, **tx}
        try:
            signed = self._account.sign_transaction(tx)
        except (ValueError, TypeError) as exc:
            raise self._fail("invalid-input", f"identity: cannot sign transaction: {exc}") from None
        tx_hash = str(signed.hash.to_0x_hex())
        self.sent.append(SentTransaction(chain_id, tx, tx_hash))
        return tx_hash
