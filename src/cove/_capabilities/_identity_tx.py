"""``identity.send-transaction``: complete a module's transaction, sign it, broadcast it.

Whatever the module left out (nonce, gas, fees, chainId) is asked of the
node in one JSON-RPC batch, so a send costs two round trips: the batch and
``eth_sendRawTransaction``. Both go through the chain backend, so the chain
grant, the method policy and the per-event call cap apply as to any call.
Fees default to EIP-1559 as wallets set them: tip from
``eth_maxPriorityFeePerGas``, cap = 2 x the latest base fee + tip.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from ..errors import HostCallError
from ._chain import RpcCall
from ._identity import Identity

Rpc = Callable[[list[RpcCall]], list[str | HostCallError]]
"""One JSON-RPC batch on the transaction's chain, through the gate."""

_NUMBERS = ("value", "gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "nonce", "chainId")
_FIELDS = frozenset({*_NUMBERS, "to", "from", "data", "type", "accessList"})

log = structlog.get_logger("cove.identity")
"""Through the engine's log pipeline: a stdlib logger at info would reach no handler."""


@dataclass(frozen=True, slots=True)
class SignedTransaction:
    """A complete transaction, signed: what is sent, and sent again as it is."""

    raw: str
    hash: str
    nonce: int
    to: str
    value: int

    def as_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> SignedTransaction:
        return cls(**json.loads(text))


def sign_transaction(
    identity: Identity, chain_id: int, tx_json: str, rpc: Rpc
) -> SignedTransaction:
    """The module's transaction completed (nonce, gas, fees from the node) and signed."""
    tx = parse_transaction(identity.address, chain_id, tx_json)
    tx.update(_fill(identity.address, tx, rpc))
    raw, tx_hash = identity.sign_transaction(tx)
    to = str(tx.get("to", "(contract creation)"))
    return SignedTransaction(raw, tx_hash, int(tx["nonce"]), to, int(tx.get("value", 0)))


def send_transaction(identity: Identity, chain_id: int, tx_json: str, rpc: Rpc) -> str:
    """The transaction hash, once the node accepted the signed transaction."""
    signed = sign_transaction(identity, chain_id, tx_json, rpc)
    _one(rpc([RpcCall("eth_sendRawTransaction", json.dumps([signed.raw]))]))
    _sent(identity.module, chain_id, signed)
    return signed.hash


def send_signed(module: str, chain_id: int, signed: SignedTransaction, rpc: Rpc) -> str:
    """Send a transaction signed earlier, again if need be: when the node refuses it but
    knows its hash (pending or mined: an earlier send got through, its answer was lost),
    it is sent. Never signed afresh, which would take the next nonce and pay twice."""
    try:
        _one(rpc([RpcCall("eth_sendRawTransaction", json.dumps([signed.raw]))]))
    except HostCallError:
        known = _one(rpc([RpcCall("eth_getTransactionByHash", json.dumps([signed.hash]))]))
        if json.loads(known) is None:
            raise
    _sent(module, chain_id, signed)
    return signed.hash


def _sent(module: str, chain_id: int, signed: SignedTransaction) -> None:
    # The operator's audit trail: what left the engine in a module's name.
    log.info(
        "transaction sent",
        module=module,
        hash=signed.hash,
        chain=chain_id,
        nonce=signed.nonce,
        to=signed.to,
        value=signed.value,
    )


def parse_transaction(address: str, chain_id: int, tx_json: str) -> dict[str, Any]:
    """The module's JSON as eth-account's dict: numbers as ints, ``from`` checked and dropped."""
    try:
        tx = json.loads(tx_json)
    except ValueError as exc:
        raise _invalid(f"transaction is not JSON: {exc}") from None
    if not isinstance(tx, dict):
        raise _invalid('transaction must be a JSON object such as {"to": ..., "value": ...}')
    unknown = sorted(set(tx) - _FIELDS)
    if unknown:
        raise _invalid(f"unknown transaction fields {unknown}; known: {sorted(_FIELDS)}")
    for name in (*_NUMBERS, "type"):
        if name in tx:
            tx[name] = _number(name, tx[name])
    sender = tx.pop("from", None)
    if sender is not None and str(sender).lower() != address.lower():
        raise _invalid(f"transaction 'from' {sender} is not this module's address {address}")
    if tx.setdefault("chainId", chain_id) != chain_id:
        raise _invalid(f"transaction chainId {tx['chainId']} differs from chain-id {chain_id}")
    if "gasPrice" in tx and ("maxFeePerGas" in tx or "maxPriorityFeePerGas" in tx):
        raise _invalid("set gasPrice (legacy) or maxFeePerGas/maxPriorityFeePerGas, not both")
    return tx


def _fill(address: str, tx: dict[str, Any], rpc: Rpc) -> dict[str, int]:
    """The missing fields, from one batch."""
    asks: dict[str, RpcCall] = {}
    if "nonce" not in tx:
        asks["nonce"] = RpcCall("eth_getTransactionCount", json.dumps([address, "pending"]))
    if "gas" not in tx:
        estimate = {"from": address, **{k: _hex(v) for k, v in tx.items() if k != "chainId"}}
        asks["gas"] = RpcCall("eth_estimateGas", json.dumps([estimate]))
    legacy = "gasPrice" in tx or tx.get("type") in (0, 1)
    if legacy and "gasPrice" not in tx:
        asks["gasPrice"] = RpcCall("eth_gasPrice", "[]")
    if not legacy and "maxPriorityFeePerGas" not in tx:
        asks["tip"] = RpcCall("eth_maxPriorityFeePerGas", "[]")
    if not legacy and "maxFeePerGas" not in tx:
        asks["block"] = RpcCall("eth_getBlockByNumber", '["latest", false]')
    if not asks:
        return {}
    answers = dict(
        zip(asks, (json.loads(_one([r])) for r in rpc(list(asks.values()))), strict=True)
    )
    filled = {k: int(v, 16) for k, v in answers.items() if k in ("nonce", "gas", "gasPrice")}
    tip = int(answers["tip"], 16) if "tip" in answers else tx.get("maxPriorityFeePerGas")
    if tip is not None and "maxPriorityFeePerGas" not in tx:
        # The node refuses a tip above the fee cap: the module's own cap bounds the asked tip.
        filled["maxPriorityFeePerGas"] = min(tip, tx.get("maxFeePerGas", tip))
    if "block" in answers:
        base = (answers["block"] or {}).get("baseFeePerGas")
        if base is None:
            raise _invalid(f"chain {tx['chainId']} has no base fee (before EIP-1559): set gasPrice")
        filled["maxFeePerGas"] = 2 * int(base, 16) + int(tip or 0)
    return filled


def _one(results: list[str | HostCallError]) -> str:
    (result,) = results
    if isinstance(result, HostCallError):
        raise result
    return result


def _number(name: str, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise _invalid(f"transaction field {name!r} must be a non-negative integer or 0x hex")


def _hex(value: Any) -> Any:
    return hex(value) if isinstance(value, int) else value


def _invalid(message: str) -> HostCallError:
    return HostCallError("invalid-input", f"identity: {message}")
