"""ERC-20 watcher: running balances from Transfer logs, signed alerts on large transfers.

Balances live in state as ``balance:<address>`` (token base units), so the
module never asks the chain for them: every Transfer log moves an amount
from one key to another. A log that a reorg removes comes again with
``removed = true`` and moves the amount back, and a retraction follows any
alert it had raised. An alert carries an attestation: a statement of the
transfer signed (EIP-191) with the module's identity, so whoever receives it
can check which watcher saw what without trusting the transport.
"""

from dataclasses import dataclass

from cove_sdk import WitWorld, identity, load_config, log, on_init, on_log, send, state

__all__ = ["WitWorld"]

MINT_OR_BURN = "0x" + "0" * 40


@dataclass
class Settings:
    """The module's [config] table; checked when the module starts."""

    threshold: int
    """Alert when one transfer moves more than this many whole tokens."""
    decimals: int = 18
    symbol: str = "COVE"
    alert_transport: str = "console"
    alert_recipient: str = "ops"


settings = Settings(threshold=0)


@on_init
def setup():
    global settings
    settings = load_config(Settings)


def topic_address(topic):
    """The address in an indexed ``address`` topic (its last 20 bytes)."""
    return "0x" + topic[-40:].lower()


def move(holder, delta):
    if holder != MINT_OR_BURN:
        state.set(f"balance:{holder}", state.get(f"balance:{holder}", 0) + delta)


def attestation(event, sender, receiver, amount):
    """The signed statement: it names the log exactly (chain, block hash, tx, index)."""
    return (
        f"cove erc20-watcher saw on chain {event.chain_id} in block {event.block_number}"
        f" ({event.block_hash}), tx {event.transaction_hash} log {event.log_index}:"
        f" {amount} base units of {event.address} from {sender} to {receiver}"
    )


def tokens(amount):
    whole, fraction = divmod(amount, 10**settings.decimals)
    text = f"{whole}.{fraction:0{settings.decimals}d}".rstrip("0").rstrip(".")
    return f"{text} {settings.symbol}"


@on_log
def transfer(event, meta):
    if len(event.topics) != 3:
        return  # not ERC-20 Transfer(address indexed, address indexed, uint256)
    sender, receiver = topic_address(event.topics[1]), topic_address(event.topics[2])
    amount = int.from_bytes(event.data, "big")
    sign = -1 if event.removed else 1
    move(sender, -sign * amount)
    move(receiver, sign * amount)
    state.incr("transfers", sign)
    key = f"alert:{event.transaction_hash}:{event.log_index}"
    if event.removed:
        if state.get(key) is not None:
            state.delete(key)
            send(
                settings.alert_transport,
                settings.alert_recipient,
                f"retracted: the large transfer in {event.transaction_hash} was reorganised away",
            )
        return
    if amount > settings.threshold * 10**settings.decimals:
        statement = attestation(event, sender, receiver, amount)
        alert = {
            "from": sender,
            "to": receiver,
            "amount": str(amount),
            "block": event.block_number,
            "tx": event.transaction_hash,
            "attestation": statement,
            "signature": identity.sign_message(statement),
            "signer": identity.address(),
        }
        state.set(key, alert)
        send(
            settings.alert_transport,
            settings.alert_recipient,
            f"large transfer: {tokens(amount)} from {sender} to {receiver}"
            f" (block {event.block_number}, tx {event.transaction_hash})",
            attestation=statement,
            signature=alert["signature"],
            signer=alert["signer"],
        )
        log("large transfer", amount=amount, tx=event.transaction_hash)
