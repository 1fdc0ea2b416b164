"""The chain source's JSON-RPC boundary: raw answers in, typed headers and checked logs out.

Every answer the source reads passes through here once, so a node that
answers garbage (a missing field, a number that is not hex, a result of the
wrong shape) is one ``ChainRpcError`` naming the method and the field, shown
in the source's health, and never a ``KeyError`` deep in the walk (which
would look like, and hide, a bug of cove's own).

pydantic (already the engine's validation library) checks the shapes in its
compiled core; a log stays the node's JSON object (only its known fields
kept), since the walk saves the recent ones with its progress as JSON.
"""

from __future__ import annotations

from typing import Annotated, Any, NamedTuple, TypeVar

from pydantic import StringConstraints, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from ..errors import ChainRpcError

_T = TypeVar("_T")
_Quantity = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{1,64}$")]
_Data = Annotated[str, StringConstraints(pattern=r"^0x([0-9a-fA-F]{2})*$")]
_Hash = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{64}$")]
_Address = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]


class Header(NamedTuple):
    """The part of a block the walk keeps."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int


class _RawHeader(TypedDict):
    number: _Quantity
    hash: _Hash
    parentHash: _Hash
    timestamp: _Quantity


class RawLog(TypedDict):
    """One log as ``eth_getLogs`` returns it, checked (other fields dropped)."""

    address: _Address
    topics: list[_Hash]
    data: _Data
    blockNumber: _Quantity
    blockHash: _Hash
    transactionHash: _Hash
    logIndex: _Quantity


_HEADER: TypeAdapter[_RawHeader] = TypeAdapter(_RawHeader)
_HEADER_OR_NONE: TypeAdapter[_RawHeader | None] = TypeAdapter(_RawHeader | None)
_LOGS: TypeAdapter[list[RawLog]] = TypeAdapter(list[RawLog])
_QUANTITY: TypeAdapter[str] = TypeAdapter(_Quantity)


def quantity(method: str, value: Any) -> int:
    """A hex quantity (``eth_blockNumber``'s answer)."""
    return int(_checked(_QUANTITY, method, value), 16)


def header(method: str, value: Any) -> Header:
    """A block (or a ``newHeads`` header) as the walk's ``Header``."""
    return _header(_checked(_HEADER, method, value))


def header_or_none(method: str, value: Any) -> Header | None:
    """``eth_getBlockByNumber``'s answer: a block, or null for one the node lacks."""
    raw = _checked(_HEADER_OR_NONE, method, value)
    return None if raw is None else _header(raw)


def logs(method: str, value: Any) -> list[RawLog]:
    """``eth_getLogs``'s answer: a list of logs."""
    return _checked(_LOGS, method, value)


def _header(raw: _RawHeader) -> Header:
    return Header(int(raw["number"], 16), raw["hash"], raw["parentHash"], int(raw["timestamp"], 16))


def _checked(adapter: TypeAdapter[_T], method: str, value: Any) -> _T:
    try:
        return adapter.validate_python(value, strict=True)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in problem["loc"]) or "result"
        got = repr(problem.get("input"))[:120]
        raise ChainRpcError(
            method, f"unusable answer: {where}: {problem['msg']} (got {got})"
        ) from None
