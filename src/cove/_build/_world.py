"""Per-module worlds: the ``module`` world with only the declared imports.

A component imports exactly the interfaces in its world, so generating the
world from the manifest is what lets the engine refuse undeclared imports
without forcing every module to declare every interface.
"""

from __future__ import annotations

import re
from pathlib import Path

from .._manifest_grants import ALWAYS_GRANTED
from .._manifest import Manifest

WIT_DIR = Path(__file__).resolve().parent.parent / "wit"
HOST_WIT = WIT_DIR / "host.wit"
HOST_WIT_0_1 = WIT_DIR / "compat" / "host-0.1.0.wit"
HOST_WIT_0_2 = WIT_DIR / "compat" / "host-0.2.0.wit"
"""cove:host@0.2.0 as released: tests and benches build a 0.2 component from it."""
"""cove:host@0.1.0 as released: JavaScript guests build against it (no decoder of
0.2's compact event for them yet), and tests build a 0.1 component from it."""
BUILD_WORLD = "build"

_WORLD = re.compile(r"^world module \{\n(?P<body>.*?)^\}\n", re.S | re.M)
_IMPORT = re.compile(r"^\s*import (?P<iface>[a-z-]+);\n", re.M)


def module_world(manifest: Manifest, host_wit: str | None = None) -> str:
    """host.wit plus a ``build`` world importing only what the module declares."""
    text = HOST_WIT.read_text() if host_wit is None else host_wit
    match = _WORLD.search(text)
    if match is None:
        raise RuntimeError(f"{HOST_WIT}: no `world module` block")
    declared = manifest.capabilities.declared | ALWAYS_GRANTED

    def keep(m: re.Match[str]) -> str:
        return m.group(0) if m["iface"] in declared else ""

    body = _IMPORT.sub(keep, match["body"])
    if manifest.tools.enabled:
        body += "    export tool-provider;\n"
    if manifest.hook:
        body += "    export hook-handler;\n"
    if manifest.migrate.enabled:
        body += "    export migrator;\n"
    return text + f"\nworld {BUILD_WORLD} {{\n{body}}}\n"
