"""Checking a component against the ``cove:host`` contract before it runs.

The engine provides ``cove:host@0.3.0`` and still runs components built
against ``0.2.0`` and ``0.1.0``. They differ in ``handle``'s parameters (0.1:
the ``event-meta`` record and the ``event`` variant; 0.2: one compact
``list<u8>``; 0.3: one ``string``) and 0.3 adds ``store.get-text`` and
``store.set-text``, so the host binds the same imports under the
component's own version (an older component just does not import the new
functions) and calls ``handle`` in its shape (``ContractReport.version``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import wasmtime
from wasmtime.component import U8, Component, ListType, RecordType, ResultType, String, VariantType

from .._manifest_grants import Capability
from ..errors import ContractError

HOST_PACKAGE = "cove:host"
HOST_VERSION = (0, 3, 0)
HOST_VERSION_TEXT = ".".join(map(str, HOST_VERSION))
LEGACY_VERSIONS = ((0, 2, 0), (0, 1, 0))
"""Older contracts still run (each through the host's adapter for ``handle``)."""

# Interface name -> the capability a module must declare to import it.
INTERFACE_CAPABILITY: dict[str, Capability | None] = {
    "types": None,
    "store": "store",
    "http": "http",
    "messaging": "messaging",
    "events": "events",
    "logging": "logging",
    "config": "config",
    "chain": "chain",
    "identity": "identity",
    "alarms": "alarms",
}
REQUIRED_EXPORTS = ("init", "handle")
TOOL_INTERFACE = "tool-provider"
"""The optional export of the ``tool-module`` world: a module's tools for agents."""
HOOK_INTERFACE = "hook-handler"
"""The optional export of the ``hook-module`` world: the module's ``[[hook]]`` handler."""
MIGRATE_INTERFACE = "migrator"
"""The optional export of the ``migrate-module`` world: the module's state migration."""
_INIT = "func() -> result<_, string>"
_HANDLES = {
    (0, 3, 0): "func(event: string) -> result<_, string>",
    (0, 2, 0): "func(event: list<u8>) -> result<_, string> (cove:host@0.2)",
    (0, 1, 0): "func(meta: event-meta, event: event) -> result<_, string> (cove:host@0.1)",
}

_IMPORT = re.compile(
    r"^(?P<pkg>[a-z0-9-]+:[a-z0-9-]+)/(?P<iface>[a-z0-9-]+)(?:@(?P<ver>[\w.+-]+))?$"
)


@dataclass(frozen=True, slots=True)
class ContractReport:
    """What the component imports from cove, by interface name."""

    interfaces: frozenset[str]
    version: tuple[int, int, int] = HOST_VERSION
    """The contract version the component was built against (its ``handle`` shape)."""
    tool_export: str | None = None
    """The name of its ``cove:host/tool-provider`` export (with its version), if any."""
    hook_export: str | None = None
    """The name of its ``cove:host/hook-handler`` export (with its version), if any."""
    migrate_export: str | None = None
    """The name of its ``cove:host/migrator`` export (with its version), if any."""


def parse_version(text: str) -> tuple[int, int, int]:
    core = text.split("-", 1)[0].split("+", 1)[0]
    parts = core.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    return int(parts[0]), int(parts[1]), int(parts[2])


def version_compatible(wanted: tuple[int, int, int]) -> bool:
    """Semver against ours or a legacy version we adapt: same major (same minor
    while major is 0) and not newer."""
    return any(_semver_fits(wanted, have) for have in (HOST_VERSION, *LEGACY_VERSIONS))


def served_version(wanted: tuple[int, int, int]) -> tuple[int, int, int] | None:
    """The version the engine serves a component built against ``wanted``, if any."""
    for have in (HOST_VERSION, *LEGACY_VERSIONS):
        if _semver_fits(wanted, have):
            return have
    return None


def _semver_fits(wanted: tuple[int, int, int], have: tuple[int, int, int]) -> bool:
    if wanted[0] != have[0]:
        return False
    if have[0] == 0 and wanted[1] != have[1]:
        return False
    return wanted <= have


def check_component(
    engine: wasmtime.Engine,
    module: str,
    component: Component,
    declared: frozenset[Capability],
    tools: bool = False,
    hooks: bool = False,
    migrate: bool = False,
) -> ContractReport:
    """Refuse incompatible versions, unknown interfaces and undeclared capabilities."""
    report, problems = contract_problems(engine, component, declared, tools, hooks, migrate)
    if problems:
        raise ContractError(module, "; ".join(problems))
    return report


def contract_problems(
    engine: wasmtime.Engine,
    component: Component,
    declared: frozenset[Capability],
    tools: bool = False,
    hooks: bool = False,
    migrate: bool = False,
) -> tuple[ContractReport, list[str]]:
    """Every way the component breaks the contract (``cove check`` lists them all).

    ``tools``: the manifest has ``[tools] enabled``; the component must then
    export ``tool-provider``, and must not otherwise. ``hooks``: likewise for
    ``[[hook]]`` entries and ``hook-handler``, and ``migrate`` for ``[migrate]
    enabled`` and ``migrator``.
    """
    kind = component.type
    interfaces: set[str] = set()
    problems: list[str] = []
    versions: set[tuple[int, int, int]] = set()
    for name in kind.imports(engine):
        match = _IMPORT.match(name)
        if match is None:
            problems.append(f"imports {name!r}, which this engine does not provide")
            continue
        pkg, iface, ver = match["pkg"], match["iface"], match["ver"]
        if pkg.startswith("wasi:"):
            continue  # WASI is linked with nothing granted
        if pkg != HOST_PACKAGE:
            problems.append(f"imports {name!r}, which this engine does not provide")
            continue
        if ver is None or not _compatible_text(ver):
            problems.append(
                f"was built against {HOST_PACKAGE}@{ver or '(unversioned)'} "
                f"but this engine provides {HOST_PACKAGE}@{HOST_VERSION_TEXT}; rebuild it against "
                f"{HOST_PACKAGE}@{HOST_VERSION[0]}.{HOST_VERSION[1]}.x"
            )
            continue
        versions.add(served_version(parse_version(ver)) or HOST_VERSION)
        if iface not in INTERFACE_CAPABILITY:
            problems.append(
                f"imports {name!r}, an interface {HOST_PACKAGE}@{HOST_VERSION_TEXT} lacks"
            )
            continue
        capability = INTERFACE_CAPABILITY[iface]
        if capability is not None and capability not in declared:
            problems.append(
                f"imports {HOST_PACKAGE}/{iface} but its manifest does not declare "
                f"{capability!r} in [capabilities] required/optional"
            )
        interfaces.add(iface)
    exports = kind.exports(engine)
    missing = [name for name in REQUIRED_EXPORTS if name not in exports]
    if missing:
        problems.append(f"does not export {', '.join(missing)} (the cove:host 'module' world)")
    handle = exports["handle"].ty if "handle" in exports else None
    if len(versions) > 1:
        problems.append(
            "imports more than one cove:host version ("
            + ", ".join(".".join(map(str, v)) for v in sorted(versions))
            + "); rebuild it against one"
        )
    # Without cove imports, ``handle``'s own shape says which contract it follows.
    version = min(versions) if versions else (_handle_version(handle) or HOST_VERSION)
    if "init" in exports and not _init_fits(exports["init"].ty):
        problems.append(f"exports init with the wrong type; expected {_INIT}")
    if handle is not None and _handle_version(handle) != version:
        problems.append(f"exports handle with the wrong type; expected {_HANDLES[version]}")
    tool_export = _optional_export(
        list(exports),
        TOOL_INTERFACE,
        (tools, "has [tools] enabled", "tool-module", "add [tools] enabled = true to cove.toml"),
        problems,
    )
    hook_export = _optional_export(
        list(exports),
        HOOK_INTERFACE,
        (hooks, "has [[hook]] entries", "hook-module", "declare its [[hook]] points in cove.toml"),
        problems,
    )
    migrate_export = _optional_export(
        list(exports),
        MIGRATE_INTERFACE,
        (
            migrate,
            "has [migrate] enabled",
            "migrate-module",
            "add [migrate] enabled = true to cove.toml",
        ),
        problems,
    )
    report = ContractReport(
        frozenset(interfaces), version, tool_export, hook_export, migrate_export
    )
    return report, problems


def _optional_export(
    names: list[str], interface: str, asked: tuple[bool, str, str, str], problems: list[str]
) -> str | None:
    """The compatible export of ``interface``; it must be there exactly when the manifest
    asks for it. ``asked``: (whether it does, how it says so, the world, the fix)."""
    found = _find_export(names, interface, problems)
    wanted, says, world, fix = asked
    if wanted and found is None:
        problems.append(
            f"its manifest {says} but it does not export {HOST_PACKAGE}/{interface} "
            f"(build it with `cove build`, which uses the {world} world)"
        )
    elif found is not None and not wanted:
        problems.append(
            f"exports {HOST_PACKAGE}/{interface} but its manifest does not ask for it; {fix}"
        )
    return found


def _find_export(names: list[str], interface: str, problems: list[str]) -> str | None:
    """The compatible export of ``interface``; an incompatible one is a problem."""
    for name in names:
        match = _IMPORT.match(name)
        if match is None or match["pkg"] != HOST_PACKAGE or match["iface"] != interface:
            continue
        ver = match["ver"]
        if ver is None or not _compatible_text(ver):
            problems.append(
                f"exports {name!r}, which this engine ({HOST_PACKAGE}@{HOST_VERSION_TEXT}) "
                "cannot call; rebuild it"
            )
            return None
        return name
    return None


def _returns_string_error(ty: object) -> bool:
    result = getattr(ty, "result", None)
    return (
        isinstance(result, ResultType)
        and result.ok is None
        and isinstance(result.err, String)
        and getattr(ty, "params", None) is not None
    )


def _init_fits(ty: object) -> bool:
    return _returns_string_error(ty) and not getattr(ty, "params", None)


def _handle_version(ty: object) -> tuple[int, int, int] | None:
    """The contract whose ``handle`` has this shape (in 0.1 a field-level mismatch is
    caught per call), or None."""
    if not _returns_string_error(ty):
        return None
    params = [param for _, param in getattr(ty, "params", [])]
    if [type(p) for p in params] == [RecordType, VariantType]:
        return (0, 1, 0)
    if len(params) != 1:
        return None
    if isinstance(params[0], String):
        return (0, 3, 0)
    if isinstance(params[0], ListType) and isinstance(params[0].element, U8):
        return (0, 2, 0)
    return None


def _compatible_text(text: str) -> bool:
    try:
        return version_compatible(parse_version(text))
    except ValueError:
        return False
