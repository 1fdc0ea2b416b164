"""Checking a component against the ``cove:host`` contract before it runs."""

from __future__ import annotations

import re
from dataclasses import dataclass

import wasmtime
from wasmtime.component import Component, RecordType, ResultType, String, VariantType

from .._manifest import Capability
from ..errors import ContractError

HOST_PACKAGE = "cove:host"
HOST_VERSION = (0, 1, 0)
HOST_VERSION_TEXT = ".".join(map(str, HOST_VERSION))

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
}
REQUIRED_EXPORTS = ("init", "handle")
TOOL_INTERFACE = "tool-provider"
"""The optional export of the ``tool-module`` world: a module's tools for agents."""
HOOK_INTERFACE = "hook-handler"
"""The optional export of the ``hook-module`` world: the module's ``[[hook]]`` handler."""
_SIGNATURES = {
    "init": "func() -> result<_, string>",
    "handle": "func(meta: event-meta, event: event) -> result<_, string>",
}

_IMPORT = re.compile(
    r"^(?P<pkg>[a-z0-9-]+:[a-z0-9-]+)/(?P<iface>[a-z0-9-]+)(?:@(?P<ver>[\w.+-]+))?$"
)


@dataclass(frozen=True, slots=True)
class ContractReport:
    """What the component imports from cove, by interface name."""

    interfaces: frozenset[str]
    tool_export: str | None = None
    """The name of its ``cove:host/tool-provider`` export (with its version), if any."""
    hook_export: str | None = None
    """The name of its ``cove:host/hook-handler`` export (with its version), if any."""


def parse_version(text: str) -> tuple[int, int, int]:
    core = text.split("-", 1)[0].split("+", 1)[0]
    parts = core.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    return int(parts[0]), int(parts[1]), int(parts[2])


def version_compatible(wanted: tuple[int, int, int]) -> bool:
    """Semver: same major (same minor while major is 0) and not newer than ours."""
    if wanted[0] != HOST_VERSION[0]:
        return False
    if HOST_VERSION[0] == 0 and wanted[1] != HOST_VERSION[1]:
        return False
    return wanted <= HOST_VERSION


def check_component(
    engine: wasmtime.Engine,
    module: str,
    component: Component,
    declared: frozenset[Capability],
    tools: bool = False,
    hooks: bool = False,
) -> ContractReport:
    """Refuse incompatible versions, unknown interfaces and undeclared capabilities."""
    report, problems = contract_problems(engine, component, declared, tools, hooks)
    if problems:
        raise ContractError(module, "; ".join(problems))
    return report


def contract_problems(
    engine: wasmtime.Engine,
    component: Component,
    declared: frozenset[Capability],
    tools: bool = False,
    hooks: bool = False,
) -> tuple[ContractReport, list[str]]:
    """Every way the component breaks the contract (``cove check`` lists them all).

    ``tools``: the manifest has ``[tools] enabled``; the component must then
    export ``tool-provider``, and must not otherwise. ``hooks``: likewise for
    ``[[hook]]`` entries and ``hook-handler``.
    """
    kind = component.type
    interfaces: set[str] = set()
    problems: list[str] = []
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
    for name in REQUIRED_EXPORTS:
        if name in exports and not _signature_fits(name, exports[name].ty):
            problems.append(f"exports {name} with the wrong type; expected {_SIGNATURES[name]}")
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
    return ContractReport(frozenset(interfaces), tool_export, hook_export), problems


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


def _signature_fits(name: str, ty: object) -> bool:
    """The shape of ``init``/``handle``; a field-level mismatch is caught per call."""
    params = getattr(ty, "params", None)
    result = getattr(ty, "result", None)
    if not (isinstance(result, ResultType) and result.ok is None):
        return False
    if not isinstance(result.err, String) or params is None:
        return False
    kinds = [type(param) for _, param in params]
    return kinds == ([] if name == "init" else [RecordType, VariantType])


def _compatible_text(text: str) -> bool:
    try:
        return version_compatible(parse_version(text))
    except ValueError:
        return False
