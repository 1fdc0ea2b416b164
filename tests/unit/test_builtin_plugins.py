"""Plugins shipped inside cove load from a manifest by their dotted ``cove.plugins`` entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove._hosts._native_host import load_plugin_class
from cove._manifest import load_manifest
from cove.errors import ModuleLoadError


def _manifest(tmp_path: Path, entry: str) -> Path:
    (tmp_path / "cove.toml").write_text(
        f'[module]\nname = "hub"\nversion = "0.1.0"\nkind = "python"\nentry = "{entry}"\n'
    )
    return tmp_path


def test_a_cove_plugins_entry_loads_the_shipped_class(tmp_path: Path) -> None:
    from cove.plugins.a2a_hub import A2AHub

    manifest = load_manifest(_manifest(tmp_path, "cove.plugins.a2a_hub:A2AHub"))
    assert A2AHub is load_plugin_class(manifest)


def test_an_unknown_built_in_names_the_entry(tmp_path: Path) -> None:
    manifest = load_manifest(_manifest(tmp_path, "cove.plugins.nope:Nope"))
    with pytest.raises(ModuleLoadError, match=r"cove\.plugins\.nope.*no built-in plugin"):
        load_plugin_class(manifest)


def test_a_local_file_still_wins_over_nothing(tmp_path: Path) -> None:
    """Entries outside ``cove.plugins`` keep loading from the manifest's directory."""
    (tmp_path / "mine.py").write_text(
        "from cove.plugin import Plugin\n\nclass Mine(Plugin):\n    pass\n"
    )
    manifest = load_manifest(_manifest(tmp_path, "mine:Mine"))
    assert "Mine" == load_plugin_class(manifest).__name__


def test_the_a2a_hub_example_loads_with_valid_settings() -> None:
    from cove.plugins.a2a_hub import read_config

    manifest = load_manifest(Path(__file__).parents[2] / "examples" / "a2a_hub")
    assert "A2AHub" == load_plugin_class(manifest).__name__
    assert "http://127.0.0.1:9999" == read_config(dict(manifest.config)).agent_url
