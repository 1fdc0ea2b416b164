"""One ``ModulePublished`` log of the registry contract, decoded.

The publisher is the event's indexed first topic, which the contract sets from
``msg.sender``: a log cannot claim another publisher, so the allowlist can
trust it without fetching the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError

from .._events import Log
from ..errors import MalformedPublication

TOPIC: Final = "0xc32319b8f7241f7eaff953293728404bd7c8b564d4a9dfc0b0aecf6374228114"
"""keccak256("ModulePublished(address,string,string,string,bytes32)")."""


@dataclass(frozen=True, slots=True)
class Publication:
    id: str
    """``<block hash>:<log index>``: the same for a log and its ``removed`` twin."""
    publisher: str
    name: str
    version: str
    uri: str
    sha256: str
    """The pin, as manifests write it: ``sha256:<hex>``."""
    block_number: int
    removed: bool

    def describe(self) -> str:
        return f"{self.name} {self.version} ({self.uri}, block {self.block_number})"


def decode(log: Log) -> Publication:
    """The publication in ``log``; ``MalformedPublication`` says why it is not one."""
    if len(log.topics) != 2 or log.topics[0].lower() != TOPIC:
        raise MalformedPublication(f"topics {list(log.topics)} are not ModulePublished's")
    try:
        name, version, uri, digest = abi_decode(["string", "string", "string", "bytes32"], log.data)
    except (DecodingError, UnicodeDecodeError) as exc:
        raise MalformedPublication(f"its data does not decode: {exc}") from None
    return Publication(
        id=f"{log.block_hash}:{log.log_index}",
        publisher="0x" + log.topics[1][-40:].lower(),
        name=name,
        version=version,
        uri=uri,
        sha256="sha256:" + bytes(digest).hex(),
        block_number=log.block_number,
        removed=log.removed,
    )
