"""``MockHost``: run a Python guest's handlers in plain pytest, no wasm, no engine.

The app is imported against fake ``wit_world`` bindings that hold state in
memory, record sends, emits and logs, and answer http from canned
responses. The checks are the engine's: an undeclared interface is absent
(``HostError`` kind ``unsupported``), a denied optional capability answers
``unsupported``, http outside the allowlist and transports outside
``[capabilities.messaging]`` answer ``denied``, init may not write state,
and an event's effects roll back when its handler fails. ``identity``
signs with a fixed test key (``host.identity``) under the manifest's methods;
``chain`` answers from ``host.chain.answer(...)`` on the granted chains.
"""

import importlib
import json
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .. import _handlers, _hooks, _migrate, _tools
from .._bindings import bindings
from .._state import state as sdk_state
from . import _fake_bindings
from ._allow import host_allowed
from ._arguments import check_arguments
from ._mock_alarms import Alarm, MockAlarms
from ._mock_chain import MockChain
from ._mock_events import MockHostError, build_event, check_subscribed
from ._mock_http import CannedHttp, answer
from ._mock_identity import DEFAULT_METHODS, MOCK_KEY, MockIdentity

_LEVELS = ("trace", "debug", "info", "warn", "error")
_START_MS = 1_700_000_000_000


@dataclass(frozen=True)
class Sent:
    """A message the module sent (delivered after the event committed)."""

    transport: str
    recipient: str
    body: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Emitted:
    """A custom event the module emitted; ``payload`` is decoded JSON."""

    name: str
    payload: Any


@dataclass(frozen=True)
class LogRecord:
    """A line the module logged (``level``: trace, debug, info, warn, error)."""

    level: str
    message: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """An http request the module made."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


class MockHost:
    """One module loaded from its directory, ready to be fed events.

    Args:
        module_dir: the directory with ``cove.toml`` and the app.
        app: the app's module name (``cove build`` compiles ``app.py``).
        config: values that override the manifest's ``[config]``.
        deny: optional capabilities the operator denies.
        state: initial state, ``{key: JSON value}``.
        identity_key: the private key ``identity`` signs with (default: ``MOCK_KEY``).

    Attributes:
        sent: ``Sent`` messages of the events that succeeded, in order.
        emitted: ``Emitted`` events of the events that succeeded.
        logs: every ``LogRecord`` (a failed event's too, as in the engine's log).
        requests: every http ``Request`` the module made.
        now_ms: the clock (Unix ms) events are stamped with; 1 ms per event,
            ``advance`` and ``tick(at_ms=...)`` move it.
        chain: the module's ``MockChain`` if it declares ``chain``.
        identity: the module's test identity if it declares ``identity``.
    """

    def __init__(
        self,
        module_dir: str | Path = ".",
        *,
        app: str = "app",
        config: dict[str, Any] | None = None,
        deny: tuple[str, ...] = (),
        state: dict[str, Any] | None = None,
        identity_key: str = MOCK_KEY,
    ) -> None:
        self.root = Path(module_dir).resolve()
        manifest = _read_manifest(self.root / "cove.toml")
        module = manifest.get("module", {})
        self.name: str = module.get("name", self.root.name)
        if module.get("kind") != "wasm":
            raise MockHostError(
                f"{self.root / 'cove.toml'}: module.kind is {module.get('kind')!r}; MockHost runs "
                "Python guests (kind = 'wasm'); test native plugins with cove.testing"
            )
        caps = manifest.get("capabilities", {})
        required, optional = set(caps.get("required", [])), set(caps.get("optional", []))
        self._declared = frozenset(required | optional)
        for name in deny:
            if name in required:
                raise MockHostError(
                    f"module {self.name!r}: requires {name!r} but it is denied; "
                    "the engine refuses such a module at load"
                )
            if name not in optional:
                raise MockHostError(f"deny={name!r}: not an optional capability of {self.name!r}")
        self._denied = frozenset(deny)
        self._http_allow = tuple(caps.get("http", {}).get("allow", []))
        transports = caps.get("messaging", {}).get("transports")
        self._transports = None if transports is None else tuple(transports)
        identity = caps.get("identity", {})
        self._chains: list[int] = caps.get("chain", {}).get("chains", [])
        self._identity_grant = (
            identity.get("methods", list(DEFAULT_METHODS)),
            self._chains,
            identity_key,
        )
        self.chain: MockChain | None = None
        """The module's chains (``answer``, ``requests``) if it declares ``chain``."""
        self.identity: MockIdentity | None = None
        """The module's identity (``address``, ``sent`` transactions) if it declares one."""
        self._subscriptions: list[dict[str, Any]] = manifest.get("subscription", [])
        self.config: dict[str, Any] = {**manifest.get("config", {}), **(config or {})}

        self._state: dict[str, bytes] = {
            k: json.dumps(v).encode() for k, v in (state or {}).items()
        }
        self._writes: dict[str, bytes | None] = {}
        self._outbox: list[Sent | Emitted | Alarm] = []
        limit = manifest.get("resources", {}).get("alarms", 100)
        self.alarms = MockAlarms(limit, lambda kind, message: self._fail(kind, message))
        """The module's ``pending`` alarms (``fire_alarms`` delivers the due ones)."""
        self._in_init = False
        self.sent: list[Sent] = []
        self.emitted: list[Emitted] = []
        self.logs: list[LogRecord] = []
        self.requests: list[Request] = []
        self.now_ms = _START_MS
        self._events = 0

        # hooks is a grant, not an interface the guest imports
        self._fakes = _fake_bindings.install(self._declared - {"hooks"})
        self._types = self._fakes["types"]
        self._config_values = {k: self._wit_config(k, v) for k, v in self.config.items()}
        self._bind()
        self.app = self._import_app(app)
        self._world = self.app.WitWorld()
        self._in_init = True
        try:
            self._run(self._world.init)
        finally:
            self._in_init = False

    # setup ------------------------------------------------------------------
    def _import_app(self, app: str) -> ModuleType:
        bindings.reset()
        _handlers.reset()
        _tools.TOOLS.clear()
        _hooks.HOOKS.clear()
        _migrate.MIGRATIONS.clear()
        sdk_state.discard()
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if name == app or (path and Path(path).resolve().parent == self.root):
                del sys.modules[name]  # a fresh import registers the handlers again
        # First on the path, even if an earlier host put it further back:
        # several modules in one test session all have an `app`.
        while str(self.root) in sys.path:
            sys.path.remove(str(self.root))
        sys.path.insert(0, str(self.root))
        return importlib.import_module(app)

    def _wit_config(self, key: str, value: Any) -> Any:
        t = self._types
        scalars: dict[type, Callable[[Any], Any]] = {
            bool: t.ConfigValue_Boolean,
            int: t.ConfigValue_Integer,
            float: t.ConfigValue_Float,
            str: t.ConfigValue_Text,
        }
        items: dict[type, Callable[[Any], Any]] = {
            bool: t.ConfigScalar_Boolean,
            int: t.ConfigScalar_Integer,
            float: t.ConfigScalar_Float,
            str: t.ConfigScalar_Text,
        }
        if type(value) in scalars:
            return scalars[type(value)](value)
        if isinstance(value, list) and all(type(v) in items for v in value):
            return t.ConfigValue_ListOf([items[type(v)](v) for v in value])
        raise MockHostError(
            f"config.{key}: a wasm module's config values must be a string, integer, "
            f"float, boolean or a list of those (got {value!r})"
        )

    def _bind(self) -> None:
        f, t = self._fakes, self._types
        Err = sys.modules["componentize_py_types"].Err

        def fail(kind: str, message: str) -> Exception:
            return Err(t.HostError(t.ErrorKind[kind.upper().replace("-", "_")], message))

        def gate(capability: str, run: Callable[..., Any]) -> Callable[..., Any]:
            def call(*args: Any) -> Any:
                if capability in self._denied:
                    raise fail(
                        "unsupported",
                        f"module {self.name!r} has no {capability!r} capability "
                        "(denied by the operator)",
                    )
                return run(*args)

            return call

        self._fail = fail
        self._http = CannedHttp(fail)
        if "store" in f:
            s = f["store"]
            s.get, s.get_many = gate("store", self._get), gate("store", self._get_many)
            s.set, s.set_many = gate("store", self._set), gate("store", self._set_many)
            s.delete, s.list_keys = gate("store", self._delete), gate("store", self._list_keys)
            # 0.3's text calls return their error beside the value instead of raising it.
            get_text, set_text = gate("store", self._get_text), gate("store", self._set_text)
            s.get_text = lambda key: _beside(Err, get_text, key, pair=True)
            s.set_text = lambda key, value: _beside(Err, set_text, key, value, pair=False)
        if "http" in f:
            f["http"].fetch = gate("http", self._fetch)
        if "messaging" in f:
            f["messaging"].send = gate("messaging", self._send)
        if "events" in f:
            f["events"].emit = gate("events", self._emit)
        if "alarms" in f:
            f["alarms"].schedule = gate(
                "alarms", lambda d, p: self.alarms.schedule(self.now_ms, self._outbox, d, p)
            )
        if "chain" in f:
            self.chain = MockChain(self._chains, fail)
            self.chain.bind(f["chain"], gate, sys.modules["componentize_py_types"].Ok)
        if "identity" in f:
            self.identity = MockIdentity(self.name, *self._identity_grant, fail)
            self.identity.bind(f["identity"], gate)
        f["logging"].log = self._log
        f["config"].get = lambda key: self._config_values.get(key)
        f["config"].keys = lambda: sorted(self._config_values)

    # host functions -----------------------------------------------------------
    def _read(self, key: str) -> bytes | None:
        return self._writes[key] if key in self._writes else self._state.get(key)

    def _get(self, key: str) -> bytes:
        value = self._read(key)
        if value is None:
            raise self._fail("not-found", f"store: no key {key!r}")
        return value

    def _get_text(self, key: str) -> tuple[str | None, None]:
        value = self._read(key)
        return (None if value is None else value.decode(), None)

    def _set_text(self, key: str, value: str) -> None:
        self._write(key, value.encode())

    def _get_many(self, keys: list[str]) -> list[bytes | None]:
        return [self._read(k) for k in keys]

    def _write(self, key: str, value: bytes | None) -> None:
        if self._in_init:
            raise self._fail("denied", "store: writes are not allowed in init")
        self._writes[key] = value

    def _set(self, key: str, value: bytes) -> None:
        self._write(key, bytes(value))

    def _set_many(self, entries: list[tuple[str, bytes]]) -> None:
        for key, value in entries:
            self._write(key, bytes(value))

    def _delete(self, key: str) -> None:
        self._write(key, None)

    def _list_keys(self, prefix: str) -> list[str]:
        keys = {k for k in self._state if self._read(k) is not None}
        keys |= {k for k, v in self._writes.items() if v is not None}
        return sorted(k for k in keys if k.startswith(prefix))

    def _fetch(self, req: Any) -> Any:
        method, url = req.method.upper(), req.url
        if not host_allowed(url, self._http_allow):
            raise self._fail("denied", f"http: {url!r} is not in the module's http allowlist")
        self.requests.append(Request(method, url, dict(req.headers), bytes(req.body)))
        canned = self._http.next(method, url)
        return self._fakes["http"].Response(canned.status, list(canned.headers), canned.body)

    def _send(self, transport: str, recipient: str, body: str, metadata: list[Any]) -> None:
        if self._transports is not None and transport not in self._transports:
            raise self._fail(
                "denied", f"messaging: transport {transport!r} is not in {list(self._transports)}"
            )
        self._outbox.append(Sent(transport, recipient, body, dict(metadata)))

    def _emit(self, name: str, payload: str) -> None:
        if not name:
            raise self._fail("invalid-input", "events: event name must not be empty")
        self._outbox.append(Emitted(name, json.loads(payload)))

    def _log(self, level: Any, message: str, fields: list[Any]) -> None:
        self.logs.append(LogRecord(_LEVELS[level.value], message, dict(fields)))

    # test API -----------------------------------------------------------------
    def respond(
        self,
        url: str,
        *,
        method: str = "GET",
        status: int = 200,
        json_body: Any = None,
        body: bytes | str = b"",
        headers: dict[str, str] | None = None,
        error: str | None = None,
        times: int | None = None,
    ) -> None:
        """Answer the module's ``fetch`` of ``method url``.

        Answers given with ``times`` are used first, in the order given, each
        for that many requests; after them the latest answer given without
        ``times`` answers every request (a later one replaces it). A request
        nothing answers fails with ``HostError`` kind ``unavailable``.

        Args:
            url: the exact URL the module fetches, query string included.
            method: the request method (any case).
            status: the response status; a non-2xx status is a normal response.
            json_body: any JSON value, sent encoded with
                ``content-type: application/json`` (wins over ``body``).
            body: the raw response body, bytes or text (UTF-8).
            headers: response headers (the module sees the names lower-cased).
            error: ``"timeout"`` or ``"connect"``: no response, but the host
                error the engine gives for a real timeout (kind ``timeout``) or
                refused connection (kind ``unavailable``).
            times: answer only this many requests, then hand over to the next
                answer; None answers every request from now on.
        """
        try:
            given = answer(status, json_body, body, headers, error, times)
        except ValueError as exc:
            raise MockHostError(str(exc)) from None
        self._http.add(method, url, given)

    @property
    def state(self) -> dict[str, Any]:
        """The committed state, JSON values decoded."""
        return {k: json.loads(v) for k, v in sorted(self._state.items())}

    def deliver(self, kind: str, **fields: Any) -> None:
        """Handle one event as the engine would; a failing handler's exception is re-raised.

        Missing fields get defaults; a ``custom`` payload that is not a string
        is JSON-encoded. On failure, state writes, sends and emits of the
        event are dropped (logs are kept, as in the engine's log).
        """
        event = build_event(self._types, kind, fields, self.now_ms, self.name)
        check_subscribed(self._subscriptions, kind, event.value, self.name)
        self._events += 1
        self.now_ms += 1
        meta = self._types.EventMeta(f"mock-{self._events}", self.now_ms, 1)
        # The SDK's dispatch on the decoded event: the bytes the engine hands
        # ``handle`` are the engine's side (its codec has tests of its own).
        from .._world import dispatch  # needs the fake bindings in place

        handlers = _handlers.HANDLERS.get(kind, [])
        self._run(lambda: dispatch(handlers, event.value, meta))

    def call_tool(self, name: str, **arguments: Any) -> Any:
        """Call the module's ``@tool`` ``name`` as the engine does; its decoded result.

        The arguments are checked against the tool's schema first, as the
        engine does (``HostError`` ``invalid-input`` naming the tool and the
        field; the tool does not run). A tool's error is re-raised
        (``HostError`` for one it raised on purpose) and its writes, sends
        and emits are dropped.
        """
        from .._tool_world import ToolProvider

        found = _tools.TOOLS.get(name)
        if found is not None:
            check_arguments(f"{self.name}.{name}", found.schema, arguments)
        result: list[str] = []
        self._run(lambda: result.append(ToolProvider().call_tool(name, json.dumps(arguments))))
        return json.loads(result[0])

    def hook(self, point: str, payload: Any) -> Any:
        """Call the app's ``@hook(point)`` as the engine would: read-only (a state write
        fails it, as in init). Its answer: None (pass), a new payload, or a ``Veto``."""
        found = _hooks.HOOKS.get(point)
        if found is None:
            raise MockHostError(f"module {self.name!r} has no @hook({point!r})")
        self._in_init = True
        sdk_state.discard()
        try:
            answer = found(json.loads(json.dumps(payload)))
            sdk_state.flush()
        finally:
            sdk_state.discard()
            self._in_init = False
        return answer

    def migrate(self, from_version: str) -> None:
        """Run the app's ``@on_migrate`` as the engine does when the state was last run by
        ``from_version``: all of its writes apply, or (it raised) none; then ``init`` runs
        again on the result, as after the engine's migration."""
        from .._migrate_world import Migrator

        self._run(lambda: Migrator().migrate(from_version))
        self._in_init = True
        try:
            self._run(self._world.init)
        finally:
            self._in_init = False

    def custom(self, name: str, payload: Any = None, source: str = "") -> None:
        """A custom event ``name``; ``payload`` is any JSON value."""
        self.deliver("custom", name=name, payload=payload, source=source)

    def ui_submit(
        self, form: str, values: dict[str, Any] | None = None, *, button: str = "submit"
    ) -> None:
        """A press of ``button`` on the module's A2UI form ``form``, as the console sends it."""
        body = {"form": form, "button": button, "values": values or {}}
        self.custom(f"ui-submit.{self.name}", json.dumps(body), source="console")

    def message(self, body: str, *, sender: str = "alice", transport: str = "console") -> None:
        """An inbound message on ``transport``, addressed to the module."""
        self.deliver("message", body=body, sender=sender, transport=transport)

    def tick(self, schedule: str | None = None, *, at_ms: int | None = None) -> None:
        """A cron tick; ``schedule`` defaults to the module's first tick subscription.

        ``at_ms`` (Unix ms) is the tick's ``scheduled_at_ms``, and the clock
        moves there first (as ``advance`` would; it may not go back). Without
        it the tick is scheduled at the clock's current time.
        """
        if schedule is None:
            ticks = [s for s in self._subscriptions if s.get("kind") == "tick"]
            if not ticks:
                raise MockHostError(f"module {self.name!r} has no tick subscription")
            schedule = ticks[0].get("schedule") or f"every {ticks[0].get('every')}"
        if at_ms is not None:
            self.advance(at_ms - self.now_ms)
        self.deliver("tick", schedule=schedule, scheduled_at_ms=self.now_ms)

    def fire_alarms(self) -> int:
        """Deliver every alarm due by ``now_ms`` (``advance`` first) as its ``cove.alarm``
        event, oldest first; how many fired."""
        due = self.alarms.take_due(self.now_ms)
        for alarm in due:
            self.custom("cove.alarm", alarm.event_payload(), source=self.name)
        return len(due)

    def advance(self, ms: int) -> None:
        """Move the clock (``now_ms``: what events are stamped with) ``ms`` forward."""
        if ms < 0:
            raise MockHostError(f"the clock only moves forward (asked to move {ms} ms)")
        self.now_ms += ms

    def block(self, number: int, **fields: Any) -> None:
        """A block event (``chain_id`` 1, zero hashes, the clock's time unless given)."""
        self.deliver("block", number=number, **fields)

    def chain_log(self, address: str, topics: list[str] | None = None, **fields: Any) -> None:
        """A log event of contract ``address`` (``data`` as bytes or text)."""
        self.deliver("log", address=address, topics=topics or [], **fields)

    def webhook(self, path: str, body: bytes | str = b"", **fields: Any) -> None:
        """An inbound webhook request to ``path`` (``method`` POST unless given)."""
        self.deliver("webhook", path=path, body=body, **fields)

    # internals ----------------------------------------------------------------
    def _run(self, call: Callable[[], None]) -> None:
        self._writes, self._outbox = {}, []
        Err = sys.modules["componentize_py_types"].Err
        try:
            call()
        except Err as err:
            self._writes, self._outbox = {}, []
            if err.__cause__ is not None:
                raise err.__cause__ from None
            raise MockHostError(str(err.value)) from None
        for key, value in self._writes.items():
            if value is None:
                self._state.pop(key, None)
            else:
                self._state[key] = value
        self.sent += [e for e in self._outbox if isinstance(e, Sent)]
        self.emitted += [e for e in self._outbox if isinstance(e, Emitted)]
        self.alarms.pending += [e for e in self._outbox if isinstance(e, Alarm)]
        self._writes, self._outbox = {}, []


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MockHostError(
            f"{path}: file not found; MockHost needs the module's directory"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise MockHostError(f"{path}: not valid TOML: {exc}") from None


def _beside(err: type[Exception], run: Callable[..., Any], *args: Any, pair: bool) -> Any:
    """``run(*args)`` with a host error returned (beside a ``None`` value when ``pair``)."""
    try:
        return run(*args)
    except err as exc:
        error = exc.value  # type: ignore[attr-defined]
        return (None, error) if pair else error
