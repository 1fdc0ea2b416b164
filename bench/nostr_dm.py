"""The host-side cost of one Nostr DM, against signing a plain note in the same run.

Rows: signing a kind 1 note (BIP-340 only: the baseline), checking one
(id + signature), sealing and signing a DM (ECDH + NIP-44 v2 + BIP-340) and
opening one as the transport does for an inbound DM (id, signature, ECDH,
MAC, decrypt); each DM row for a new peer (the ECDH done) and for a known
one (the conversation key kept, as the transport keeps it). Figures are the median µs per operation of several rounds;
the ratio column is against the baseline row.

Usage: python bench/nostr_dm.py [--ops 2000] [--rounds 5] [--size 200]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

from _common import median, print_table

from cove._nostr._event import sign_event, verify_event
from cove._nostr._keys import NostrKey, npub
from cove._sources._nostr_dm import Conversations, Served, inbound_event, outbound_event


def _per_op_us(op: Callable[[], object], ops: int, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(ops):
            op()
        samples.append((time.perf_counter() - start) / ops * 1e6)
    return median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", type=int, default=200, help="message body, bytes")
    args = parser.parse_args()
    alice, bob = NostrKey(os.urandom(32)), NostrKey(os.urandom(32))
    body = "x" * args.size
    to_bob = npub(bob.pubkey)
    served = Served({"bob": bob})
    known = Conversations()
    note = sign_event(alice, kind=1, content=body, tags=[])
    dm = outbound_event(alice, to_bob, body, [])
    rows = {
        "sign a note (baseline)": lambda: sign_event(alice, kind=1, content=body, tags=[]),
        "check a note (id + signature)": lambda: verify_event(note),
        "seal + sign a DM, new peer": lambda: outbound_event(alice, to_bob, body, []),
        "seal + sign a DM, known peer": lambda: outbound_event(alice, to_bob, body, [], known),
        "open a DM, new peer": lambda: inbound_event("dm", dm, Served({"bob": bob})),
        "open a DM, known peer": lambda: inbound_event("dm", dm, served),
    }
    figures = {name: _per_op_us(op, args.ops, args.rounds) for name, op in rows.items()}
    base = figures["sign a note (baseline)"]
    print_table(
        f"one Nostr DM, host side ({args.size}-byte body, median of {args.rounds} x {args.ops})",
        [(name, f"{us:.1f}", f"{us / base:.2f}") for name, us in figures.items()],
        ("operation", "µs/op", "× baseline"),
    )


if __name__ == "__main__":
    main()
