"""Balance monitor: on a schedule, one JSON-RPC batch reads every balance.

Each tick sends a single ``chain.request-batch`` (the head, then
``eth_getBalance`` and the token's ``balanceOf`` for each address), POSTs
the summary to an HTTP endpoint and keeps it in state. A node or endpoint
that is down is recorded, not raised: a monitor that fails its event would
be retried and finally stopped, just when it has something to report.
"""

from dataclasses import dataclass, field

from cove_sdk import HostError, WitWorld, chain, fetch, load_config, log, on_init, on_tick, state

__all__ = ["WitWorld"]

BALANCE_OF = "0x70a08231"  # balanceOf(address)


@dataclass
class Settings:
    """The module's [config] table; checked when the module starts."""

    chain_id: int
    token: str
    endpoint: str
    addresses: list[str] = field(default_factory=list)


settings = Settings(chain_id=0, token="", endpoint="")


@on_init
def setup():
    global settings
    settings = load_config(Settings)


def calls():
    batch = [("eth_blockNumber", [])]
    for address in settings.addresses:
        data = BALANCE_OF + address.lower().removeprefix("0x").rjust(64, "0")
        batch.append(("eth_getBalance", [address, "latest"]))
        batch.append(("eth_call", [{"to": settings.token, "data": data}, "latest"]))
    return batch


def quantity(result):
    """A hex quantity as a decimal string (JSON has no big integers).

    None for a call that failed on its own, or an ``eth_call`` answered
    ``0x``: no contract (yet) at the token address.
    """
    if isinstance(result, HostError) or result == "0x":
        return None
    return str(int(result, 16))


def read_balances():
    """The head and every balance, from one JSON-RPC batch; raises HostError if it failed."""
    results = chain.request_batch(settings.chain_id, calls())
    balances = {}
    for i, address in enumerate(settings.addresses):
        eth, token = results[1 + 2 * i], results[2 + 2 * i]
        balances[address.lower()] = {"wei": quantity(eth), "token": quantity(token)}
    head = quantity(results[0])
    return None if head is None else int(head), balances


@on_tick
def check(tick, meta):
    state.incr("checks")
    try:
        head, balances = read_balances()
    except HostError as err:
        state.incr("chain_errors")
        state.set("last_error", {"at_ms": tick.scheduled_at_ms, "chain": str(err)})
        log("balances unreadable", level="warn", error=str(err))
        return
    summary = {
        "chain_id": settings.chain_id,
        "block": head,
        "at_ms": tick.scheduled_at_ms,
        "balances": balances,
    }
    state.set("last", summary)
    try:
        response = fetch(settings.endpoint, method="POST", json_body=summary)
    except HostError as err:
        state.set("last_error", {"at_ms": tick.scheduled_at_ms, "post": str(err)})
        log("summary not posted", level="warn", error=str(err))
        return
    state.set("last_post", {"at_ms": tick.scheduled_at_ms, "status": response.status})
