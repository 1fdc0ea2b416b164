"""Running a trusted Python plugin behind the same interface as a component."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import ValidationError

from .._capabilities._calls import HostCalls
from .._events import Event
from .._manifest import Manifest
from ..errors import (
    HostCallError,
    LimitExceededError,
    ModuleFailedError,
    ModuleLoadError,
    ToolError,
)
from ..plugin import (
    Action,
    DeleteState,
    EmitEvent,
    Log,
    Plugin,
    PluginContext,
    SendMessage,
    SetState,
    ToolResult,
    Veto,
    encode_value,
)
from ._base import CallStats, HookOutcome, ModuleHost, ToolSpec

BUILT_IN_PREFIX = "cove.plugins."


def load_plugin_class(manifest: Manifest) -> type[Plugin]:
    """Import ``entry = "module:Class"``: a ``cove.plugins.*`` module from cove itself,
    any other from the manifest's directory."""
    assert manifest.module.entry is not None
    module_name, _, class_name = manifest.module.entry.partition(":")
    if module_name.startswith(BUILT_IN_PREFIX):
        return _checked(manifest, _import_built_in(manifest, module_name), class_name)
    return _checked(manifest, _import_local(manifest, module_name), class_name)


def _import_built_in(manifest: Manifest, module_name: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise ModuleLoadError(manifest.name, f"importing {module_name} failed: {exc}") from exc
        raise ModuleLoadError(
            manifest.name,
            f"entry {manifest.module.entry!r}: no built-in plugin {module_name} in cove",
        ) from None


def _import_local(manifest: Manifest, module_name: str) -> ModuleType:
    relative = Path(*module_name.split("."))
    candidates = [manifest.root / f"{relative}.py", manifest.root / relative / "__init__.py"]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise ModuleLoadError(
            manifest.name,
            f"entry {manifest.module.entry!r}: no {candidates[0].name} in {manifest.root}",
        )
    unique = f"cove_plugins.{manifest.name}.{module_name}"
    spec = importlib.util.spec_from_file_location(unique, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ModuleLoadError(
            manifest.name, f"importing {path} failed: {type(exc).__name__}: {exc}"
        ) from exc
    return module


def _checked(manifest: Manifest, module: ModuleType, class_name: str) -> type[Plugin]:
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Plugin)):
        raise ModuleLoadError(
            manifest.name,
            f"entry {manifest.module.entry!r}: {class_name} is not a cove.plugin.Plugin subclass",
        )
    for field, declared in (("name", manifest.name), ("version", manifest.module.version)):
        said = getattr(cls, field)
        if said and said != declared:
            raise ModuleLoadError(
                manifest.name,
                f"plugin class says {field} {said!r} but the manifest says {declared!r}",
            )
    return cls


def with_class_subscriptions(manifest: Manifest, cls: type[Plugin]) -> Manifest:
    """The manifest's subscriptions win; the class's apply only when it has none."""
    if manifest.subscription or not cls.subscriptions:
        return manifest
    data = manifest.model_dump()
    data["subscription"] = list(cls.subscriptions)
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise ModuleLoadError(
            manifest.name, f"{cls.__name__}.subscriptions is invalid: {problems}"
        ) from None


class NativeModuleHost(ModuleHost):
    def __init__(self, manifest: Manifest, plugin_class: type[Plugin]) -> None:
        self.name = manifest.name
        self.stats = CallStats()
        self._config = dict(manifest.config)
        if manifest.hook and plugin_class.on_hook is Plugin.on_hook:
            raise ModuleLoadError(
                manifest.name,
                f"{manifest.root / 'cove.toml'} declares [[hook]] but {plugin_class.__name__} "
                "does not override Plugin.on_hook",
            )
        try:
            self._plugin = plugin_class()
        except Exception as exc:
            raise ModuleLoadError(
                manifest.name,
                f"{plugin_class.__name__}() raised {type(exc).__name__}: {exc} "
                "(move fallible set-up into init(), where a failure is retried)",
            ) from exc
        self.tools = _plugin_tools(manifest, plugin_class)
        self._migrates = _plugin_migrates(manifest, plugin_class)
        self._tool_methods = {t.name: t.method for t in plugin_class.declared_tools()}

    def _context(self, calls: HostCalls) -> PluginContext:
        return PluginContext(self.name, self._config, calls)

    def init(self, calls: HostCalls) -> None:
        self._run("init", lambda: self._plugin.init(self._context(calls)))

    def handle(self, event: Event, attempt: int, calls: HostCalls) -> None:
        self._run("handle", self._handle, event, calls)

    def _handle(self, event: Event, calls: HostCalls) -> None:
        actions = self._plugin.handle_event(event, PluginContext(self.name, self._config, calls))
        if actions:
            self._apply_all(actions, calls)

    def migrate(self, from_version: str, calls: HostCalls) -> bool:
        if not self._migrates:
            return False

        def run() -> None:
            actions = self._plugin.migrate(from_version, self._context(calls))
            _apply_batched(actions or (), calls)

        self._run(f"migrate from {from_version}", run)
        return True

    def call_tool(self, name: str, arguments_json: str, calls: HostCalls) -> str:
        method = self._tool_methods.get(name)
        if method is None:
            return super().call_tool(name, arguments_json, calls)
        result: list[Any] = []
        refused: list[HostCallError] = []

        def run() -> None:
            bound = getattr(self._plugin, method)
            try:
                answer = bound(self._context(calls), **json.loads(arguments_json))
            except HostCallError as exc:  # its own refusal, or a host call's it let through
                refused.append(exc)
                return
            if isinstance(answer, ToolResult):
                self._apply_all(answer.actions, calls)
                answer = answer.value
            result.append(json.dumps(answer))

        try:
            self._run(f"tool {name}", run)
        except LimitExceededError:
            raise
        except ModuleFailedError as exc:  # the plugin failed: its error, not a trap
            raise ToolError(name, "internal", exc.reason) from None
        if refused:  # with its kind, as a guest's HostError is
            raise ToolError(name, refused[0].kind, refused[0].message)
        return str(result[0])

    def _apply_all(self, actions: Iterable[Action] | None, calls: HostCalls) -> None:
        for index, action in enumerate(actions or ()):
            try:
                _apply(action, calls)
            except HostCallError as exc:
                raise ModuleFailedError(
                    self.name, f"action {index} ({type(action).__name__}) refused: {exc}"
                ) from None

    def on_hook(self, point: str, payload_json: str, calls: HostCalls) -> HookOutcome:
        try:
            answer = self._plugin.on_hook(point, json.loads(payload_json))
            if answer is None:
                return HookOutcome("pass")
            if isinstance(answer, Veto):
                return HookOutcome("veto", reason=answer.reason)
            return HookOutcome("replace", json.dumps(answer))
        except Exception as exc:
            raise ModuleFailedError(
                self.name, f"hook {point} raised {type(exc).__name__}: {exc}"
            ) from exc

    def close(self) -> None:
        self._plugin.shutdown()

    def _run(self, what: str, body: Callable[..., object], *args: Any) -> None:
        """``body(*args)`` timed, its failures as the module's: the arguments are passed,
        not closed over, as ``handle`` runs once per event."""
        start = time.perf_counter_ns()
        try:
            body(*args)
        except (ModuleFailedError, LimitExceededError):
            raise
        except HostCallError as exc:
            raise ModuleFailedError(self.name, f"{what}: host call failed: {exc}") from None
        except Exception as exc:
            raise ModuleFailedError(
                self.name, f"{what} raised {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            self.stats.wall_ns = time.perf_counter_ns() - start


def _plugin_tools(manifest: Manifest, cls: type[Plugin]) -> tuple[ToolSpec, ...]:
    """The class's ``@tool`` methods; they and ``[tools] enabled`` must agree."""
    declared = cls.declared_tools()
    where = manifest.root / "cove.toml"
    if declared and not manifest.tools.enabled:
        raise ModuleLoadError(
            manifest.name,
            f"{cls.__name__} has @tool methods but {where} does not enable tools; "
            "add [tools] enabled = true",
        )
    if manifest.tools.enabled and not declared:
        raise ModuleLoadError(
            manifest.name, f"{where} enables tools but {cls.__name__} has no @tool methods"
        )
    return tuple(ToolSpec(t.name, t.description, t.schema) for t in declared)


def _plugin_migrates(manifest: Manifest, cls: type[Plugin]) -> bool:
    """Whether the class overrides ``Plugin.migrate``; it and ``[migrate] enabled`` agree."""
    overrides = cls.migrate is not Plugin.migrate
    if overrides != manifest.migrate.enabled:
        where = manifest.root / "cove.toml"
        fix = (
            f"{cls.__name__} overrides Plugin.migrate but {where} does not enable it; "
            "add [migrate] enabled = true"
            if overrides
            else f"{where} enables [migrate] but {cls.__name__} does not override Plugin.migrate"
        )
        raise ModuleLoadError(manifest.name, fix)
    return overrides


def _apply_batched(actions: Iterable[Action], calls: HostCalls) -> None:
    """A migration's actions: each run of ``SetState`` as one ``set-many`` (one host call,
    not one per key: a migration rewrites many keys within one call's budget)."""
    pending: list[tuple[str, bytes]] = []
    for action in actions:
        if isinstance(action, SetState):
            pending.append((action.key, encode_value(action.value)))
            continue
        if pending:
            calls.store_set_many(pending)
            pending = []
        _apply(action, calls)
    if pending:
        calls.store_set_many(pending)


def _set_state(action: SetState, calls: HostCalls) -> None:
    calls.store_set(action.key, encode_value(action.value))


def _delete_state(action: DeleteState, calls: HostCalls) -> None:
    calls.store_delete(action.key)


def _send_message(action: SendMessage, calls: HostCalls) -> None:
    calls.messaging_send(action.transport, action.recipient, action.body, tuple(action.metadata))


def _emit_event(action: EmitEvent, calls: HostCalls) -> None:
    calls.events_emit(action.name, encode_value(action.payload).decode())


def _log(action: Log, calls: HostCalls) -> None:
    calls.log(action.level, action.message, dict(action.fields))


_APPLY: dict[type, Callable[[Any, HostCalls], None]] = {
    SetState: _set_state,
    DeleteState: _delete_state,
    SendMessage: _send_message,
    EmitEvent: _emit_event,
    Log: _log,
}
"""Each action type's effect, found by its exact type (a handler's actions are applied
once per event: a dict lookup, not a ``match`` trying each class in turn)."""


def _apply(action: Action, calls: HostCalls) -> None:
    apply = _APPLY.get(type(action))
    if apply is None:  # a subclass of an action: the first class it is an instance of
        apply = next((f for cls, f in _APPLY.items() if isinstance(action, cls)), None)
        if apply is None:
            raise HostCallError("invalid-input", f"not an action: {action!r}")
    apply(action, calls)
