"""Fixture files for ``cove run --mock``: events on a fake clock, canned http and chain answers.

TOML or JSON, one shape::

    start = 2026-01-01T00:00:00Z        # the fake clock's start (optional)

    [[events]]
    kind = "message"                    # block, log, tick, message, webhook, custom
    after = "30s"                       # advance the fake clock first (optional)
    body = "hi"

    [[http]]                            # canned responses, matched by method + url
    url = "https://api.example.com/price"
    times = 1                           # answers once, then the next entry for this url
    error = "timeout"                   # or "connect"; instead of a response

    [[http]]
    url = "https://api.example.com/price"
    json = { price = 42 }               # no `times`: every request from then on

    [[chain]]                           # canned JSON-RPC answers, by chain + method
    method = "eth_blockNumber"          # (+ params, when given)
    result = "0x10"

Every field but a few (``number``, ``address``, ``body``, ``path``, ``name``)
has a default, so a fixture says only what matters to the module.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .._events import Block, Custom, Event, Log, Message, Payload, Tick, Webhook
from .._toml import read_toml, validate_toml
from .._units import parse_duration_ms
from ..errors import FixtureError

DEFAULT_START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
_ZERO_HASH = "0x" + "0" * 64


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _EventFixture(_Strict):
    after: str | None = None
    id: Annotated[str, Field(min_length=1)] | None = None

    @field_validator("after")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration_ms(value)
        return value


class BlockFixture(_EventFixture):
    kind: Literal["block"]
    number: Annotated[int, Field(ge=0)]
    chain_id: Annotated[int, Field(gt=0)] = 1
    hash: str | None = None
    parent_hash: str | None = None
    timestamp: Annotated[int, Field(ge=0)] | None = None
    confirmations: Annotated[int, Field(ge=0)] = 0  # the depth a subscription asks for


class LogFixture(_EventFixture):
    kind: Literal["log"]
    address: str
    topics: list[str] = Field(default_factory=list)
    data: str = "0x"
    chain_id: Annotated[int, Field(gt=0)] = 1
    block_number: Annotated[int, Field(ge=0)] = 1
    block_hash: str = _ZERO_HASH
    transaction_hash: str = _ZERO_HASH
    log_index: Annotated[int, Field(ge=0)] = 0
    removed: bool = False
    confirmations: Annotated[int, Field(ge=0)] = 0

    @field_validator("data")
    @classmethod
    def _hex(cls, value: str) -> str:
        digits = value.removeprefix("0x")
        try:
            bytes.fromhex(digits)
        except ValueError:
            raise ValueError("data must be hex bytes such as '0x00ff'") from None
        return value


class TickFixture(_EventFixture):
    kind: Literal["tick"]
    schedule: str | None = None


class MessageFixture(_EventFixture):
    kind: Literal["message"]
    body: str
    sender: str = "alice"
    transport: str = "console"
    recipient: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class WebhookFixture(_EventFixture):
    kind: Literal["webhook"]
    path: Annotated[str, Field(pattern=r"^/")]
    method: str = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str = ""


class CustomFixture(_EventFixture):
    kind: Literal["custom"]
    name: Annotated[str, Field(min_length=1)]
    payload: Any = None
    source: str = ""


EventFixture = Annotated[
    BlockFixture | LogFixture | TickFixture | MessageFixture | WebhookFixture | CustomFixture,
    Field(discriminator="kind"),
]


class HttpFixture(_Strict):
    """A canned answer: a response (``json``, any JSON value, or ``body``, text) or an ``error``.

    Entries for the same method and URL answer in turn: one with ``times``
    answers that many requests, one without answers all the rest.
    """

    url: Annotated[str, Field(pattern=r"^https?://")]
    method: str = "GET"
    status: Annotated[int, Field(ge=100, le=599)] = 200
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    json_body: Annotated[Any, Field(alias="json")] = None
    times: Annotated[int, Field(ge=1)] | None = None
    error: Literal["timeout", "connect"] | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_answer(self) -> HttpFixture:
        response = {"status", "headers", "body", "json_body"} & self.model_fields_set
        if self.error is not None and response:
            names = sorted("json" if n == "json_body" else n for n in response)
            raise ValueError(f"an `error` answer has no response; drop {', '.join(names)}")
        if self.body is not None and self.json_body is not None:
            raise ValueError("give `json` or `body`, not both")
        return self

    def content(self) -> tuple[dict[str, str], bytes]:
        if self.json_body is not None:
            headers = {"content-type": "application/json", **self.headers}
            return headers, json.dumps(self.json_body).encode()
        return dict(self.headers), (self.body or "").encode()


class RpcErrorFixture(_Strict):
    """A JSON-RPC error object, as a node sends it."""

    code: int = -32000
    message: Annotated[str, Field(min_length=1)]
    data: Any = None


class ChainFixture(_Strict):
    """A canned JSON-RPC answer: ``result`` (any JSON value, null too) or ``error``.

    Without ``params`` it answers the method whatever the params; an entry
    with ``params`` answers only those (exact JSON equality) and wins.
    """

    chain_id: Annotated[int, Field(gt=0)] = 1
    method: Annotated[str, Field(min_length=1)]
    params: list[Any] | dict[str, Any] | None = None
    result: Any = None
    error: RpcErrorFixture | None = None

    @model_validator(mode="after")
    def _one_answer(self) -> ChainFixture:
        if ("result" in self.model_fields_set) == (self.error is not None):
            raise ValueError("give exactly one of `result` or `error`")
        return self


class Fixture(_Strict):
    start: datetime | Annotated[int, Field(ge=0)] | None = None
    events: Annotated[list[EventFixture], Field(min_length=1)]
    http: list[HttpFixture] = Field(default_factory=list)
    chain: list[ChainFixture] = Field(default_factory=list)

    @property
    def start_ms(self) -> int:
        if self.start is None:
            return DEFAULT_START_MS
        if isinstance(self.start, int):
            return self.start
        start = self.start if self.start.tzinfo else self.start.replace(tzinfo=UTC)
        return int(start.timestamp() * 1000)


def load_fixture(path: Path) -> Fixture:
    """Read a ``.toml`` or ``.json`` fixture; errors name the file and the key."""
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FixtureError(f"{path}: file not found") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FixtureError(f"{path}: not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise FixtureError(f"{path}: the top level must be an object with `events`")
    else:
        data = read_toml(path, FixtureError)
    return validate_toml(path, data, Fixture, FixtureError)


def fixture_events(
    fixture: Fixture, source: Path, module: str, tick_schedules: list[str]
) -> list[Event]:
    """The fixture's events in order, stamped by the fake clock (``source`` names the file)."""
    now = fixture.start_ms
    events = []
    for index, item in enumerate(fixture.events):
        if item.after is not None:
            now += parse_duration_ms(item.after)
        try:
            payload = _payload(item, now, module, tick_schedules)
        except ValueError as exc:
            raise FixtureError(f"{source}: events[{index}]: {exc}") from None
        events.append(Event(payload, id=item.id or f"fixture-{index + 1}", accepted_at_ms=now))
    return events


def _payload(item: Any, now: int, module: str, tick_schedules: list[str]) -> Payload:
    match item:
        case BlockFixture():
            return Block(
                item.chain_id,
                item.number,
                item.hash or f"0x{item.number + 1:064x}",
                item.parent_hash or f"0x{item.number:064x}",
                item.timestamp if item.timestamp is not None else now // 1000,
                item.confirmations,
            )
        case LogFixture():
            return Log(
                item.chain_id,
                item.block_number,
                item.block_hash,
                item.transaction_hash,
                item.log_index,
                item.address,
                tuple(item.topics),
                bytes.fromhex(item.data.removeprefix("0x")),
                item.removed,
                item.confirmations,
            )
        case TickFixture():
            schedule = item.schedule or (tick_schedules[0] if tick_schedules else None)
            if schedule is None:
                raise ValueError("a tick needs `schedule`; the module has no tick subscription")
            return Tick(schedule, now)
        case MessageFixture():
            return Message(
                item.transport,
                item.sender,
                item.recipient or module,
                item.body,
                tuple(item.metadata.items()),
            )
        case WebhookFixture():
            return Webhook(item.path, item.method, tuple(item.headers.items()), item.body.encode())
        case CustomFixture():
            return Custom(item.name, item.source, json.dumps(item.payload))
    raise AssertionError(f"unhandled fixture event {item!r}")
