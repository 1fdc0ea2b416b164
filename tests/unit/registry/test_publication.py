"""Decoding ModulePublished logs: the topic, the publisher from the indexed topic, the
pin as manifests write it, and a malformed log refused."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from cove._events import Log
from cove._registry._publication import TOPIC, decode
from cove.errors import MalformedPublication

PUBLISHER = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"


def a_log(data: bytes, topics: tuple[str, ...] | None = None, removed: bool = False) -> Log:
    publisher_topic = "0x" + "00" * 12 + PUBLISHER[2:]
    return Log(
        chain_id=31337,
        block_number=7,
        block_hash="0xbb",
        transaction_hash="0xtt",
        log_index=3,
        address="0x5fbdb2315678afecb367f032d93f642f64180aa3",
        topics=topics if topics is not None else (TOPIC, publisher_topic),
        data=data,
        removed=removed,
    )


def test_the_topic_is_the_event_signature_hash() -> None:
    signature = "ModulePublished(address,string,string,string,bytes32)"
    assert "0x" + keccak(text=signature).hex() == TOPIC


@pytest.mark.parametrize("removed", [False, True])
def test_a_publication_decodes_with_its_publisher_and_pin(removed: bool) -> None:
    digest = bytes(range(32))
    data = encode(["string", "string", "string", "bytes32"], ["shop", "1.2.0", "oci://r/s", digest])
    pub = decode(a_log(data, removed=removed))
    assert ("shop", "1.2.0", "oci://r/s") == (pub.name, pub.version, pub.uri)
    assert "sha256:" + digest.hex() == pub.sha256
    assert PUBLISHER == pub.publisher
    assert ("0xbb:3", 7, removed) == (pub.id, pub.block_number, pub.removed)


def test_another_event_or_bad_data_is_not_a_publication() -> None:
    with pytest.raises(MalformedPublication, match="not ModulePublished"):
        decode(a_log(b"", topics=("0x" + "11" * 32,)))
    with pytest.raises(MalformedPublication, match="does not decode"):
        decode(a_log(b"\x00" * 10))
