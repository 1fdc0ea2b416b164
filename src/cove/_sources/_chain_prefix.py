"""What of a batch's answer the walk may take: the blocks up to a gap, a chain, its logs.

A batch of headers is read while the chain may move: a block the endpoint
lacks (a revert dropped the head) or a parent that is not the block before
(a reorg landed between two items) ends the part the walk takes; the rest is
read again on the next step.
"""

from __future__ import annotations

from ._chain_json import Header, RawLog


def chained(headers: list[Header]) -> list[Header]:
    """The prefix in which each block's parent is the one before (the chain moved under
    the batch otherwise)."""
    for i in range(1, len(headers)):
        if headers[i].parent_hash != headers[i - 1].hash:
            return headers[:i]
    return headers


def upto(logs: list[RawLog], number: int) -> list[RawLog]:
    """The logs of blocks up to ``number`` (those beyond a truncated batch are asked again)."""
    if not logs or int(logs[-1]["blockNumber"], 16) <= number:
        return logs
    return [e for e in logs if int(e["blockNumber"], 16) <= number]


def present(found: list[Header | None]) -> list[Header]:
    """The blocks up to the first one the endpoint lacks."""
    out: list[Header] = []
    for block in found:
        if block is None:
            break
        out.append(block)
    return out
