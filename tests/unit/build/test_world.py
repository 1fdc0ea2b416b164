"""cove._build._world.module_world: a ``build`` world with only the declared imports."""

from __future__ import annotations

import re

import pytest

from cove._build._world import BUILD_WORLD, HOST_WIT, module_world
from cove._manifest_grants import CAPABILITIES
from tests.helpers.fakes import manifest


def world_block(text: str, name: str) -> str:
    match = re.search(rf"^world {name} \{{\n(.*?)^\}}\n", text, re.S | re.M)
    assert match is not None, f"no world {name} in the generated WIT"
    return match.group(1)


def imports(text: str, world: str) -> set[str]:
    return set(re.findall(r"^\s*import ([a-z-]+);", world_block(text, world), re.M))


@pytest.mark.parametrize(
    ("required", "optional", "expected"),
    [
        ([], [], {"logging", "config"}),
        (["store"], [], {"store", "logging", "config"}),
        (["store", "events"], ["messaging"], {"store", "events", "messaging", "logging", "config"}),
        (["http"], ["logging"], {"http", "logging", "config"}),
        # hooks is a grant, not an import: it adds an export (below)
        (list(CAPABILITIES), [], set(CAPABILITIES) - {"hooks"}),
    ],
)
def test_build_world_imports_declared_and_always_granted_interfaces(
    required: list[str], optional: list[str], expected: set[str]
) -> None:
    """Only declared capabilities plus logging and config are imported."""
    text = module_world(manifest(kind="wasm", required=required, optional=optional))
    assert expected == imports(text, BUILD_WORLD)


def test_build_world_keeps_everything_else_of_the_module_world() -> None:
    """Exports and ``use`` lines of ``world module`` are carried over unchanged."""
    text = module_world(manifest(kind="wasm"))
    module_lines = world_block(text, "module").splitlines()
    build_lines = world_block(text, BUILD_WORLD).splitlines()
    assert [line for line in module_lines if "import " not in line] == [
        line for line in build_lines if "import " not in line
    ]


def test_host_wit_is_kept_whole_before_the_build_world() -> None:
    """The generated text starts with the full host.wit, so every interface still resolves."""
    original = HOST_WIT.read_text()
    text = module_world(manifest(kind="wasm", required=["store"]))
    assert text.startswith(original)
    assert set(CAPABILITIES) - {"hooks"} == imports(text, "module")


def test_custom_host_wit_text_is_used_when_given() -> None:
    """The WIT text can be passed in, e.g. an older contract."""
    wit = "package a:b;\nworld module {\n    import store;\n    import http;\n}\n"
    text = module_world(manifest(kind="wasm", required=["http"]), host_wit=wit)
    assert {"http"} == imports(text, BUILD_WORLD)


def test_wit_without_a_module_world_is_an_error() -> None:
    """A broken contract file fails loudly."""
    with pytest.raises(RuntimeError, match="no `world module` block"):
        module_world(manifest(kind="wasm"), host_wit="package a:b;\n")


def test_hooks_export_the_hook_handler() -> None:
    """A manifest with [[hook]] builds against a world that exports cove:host/hook-handler."""
    plain = module_world(manifest(kind="wasm", required=["hooks"]))
    hooked = module_world(
        manifest(kind="wasm", required=["hooks"], hook=[{"point": "before-message"}])
    )
    assert "export hook-handler;" not in world_block(plain, BUILD_WORLD)
    assert "export hook-handler;" in world_block(hooked, BUILD_WORLD)
