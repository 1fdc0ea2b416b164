"""Engine config [registry]: the chain must be configured, addresses are checked and
lower-cased, the fetched-module directory defaults under data_dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove._config import load_config
from cove.errors import ConfigError

CHAIN = '[[chains]]\nchain_id = 31337\nhttp = "http://127.0.0.1:8545"\n'
REGISTRY = (
    "[registry]\nchain = 31337\n"
    'address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"\n'
    'publishers = ["0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266"]\n'
)


def config_of(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "engine.toml"
    path.write_text('data_dir = "data"\n' + text)
    return path


def test_a_registry_section_reads_with_its_defaults(tmp_path: Path) -> None:
    config = load_config(config_of(tmp_path, CHAIN + REGISTRY))
    registry = config.registry
    assert registry is not None
    assert "0x5fbdb2315678afecb367f032d93f642f64180aa3" == registry.address
    assert ["0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"] == registry.publishers
    assert (6, "all") == (registry.confirmations, registry.load)
    assert tmp_path / "data" / "registry" == config.registry_path
    assert registry.applies_to("anything")


def test_a_registry_on_an_unconfigured_chain_is_refused_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"registry\.chain: 31337 is not a \[\[chains\]\]"):
        load_config(config_of(tmp_path, REGISTRY))


@pytest.mark.parametrize(
    ("replace", "key"),
    [
        ('publishers = ["0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266"]', "publishers"),
        ('address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"', "address"),
    ],
)
def test_a_bad_address_is_refused_naming_its_key(tmp_path: Path, replace: str, key: str) -> None:
    broken = REGISTRY.replace(
        replace, f'{key} = "not-an-address"' if key == "address" else f'{key} = ["0x12"]'
    )
    with pytest.raises(ConfigError, match=key):
        load_config(config_of(tmp_path, CHAIN + broken))


def test_load_limits_the_modules_applied(tmp_path: Path) -> None:
    config = load_config(config_of(tmp_path, CHAIN + REGISTRY + 'load = ["shop"]\ndir = "mods"\n'))
    registry = config.registry
    assert registry is not None
    assert registry.applies_to("shop") and not registry.applies_to("other")
    assert tmp_path / "mods" == config.registry_path
