"""``[secrets]`` and their grants are checked when the engine config loads; values are read per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove._capabilities._secrets import module_secrets
from cove._config import load_config
from cove.errors import ConfigError


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "engine.toml"
    path.write_text(body)
    return path


def test_a_grant_of_an_unconfigured_secret_is_refused(tmp_path: Path) -> None:
    path = _config(tmp_path, '[overrides.m]\nsecrets = ["nope"]\n')
    with pytest.raises(ConfigError, match=r"overrides\.m\.secrets: no \[secrets\.<name>\] section"):
        load_config(path)


def test_a_secret_needs_exactly_one_source(tmp_path: Path) -> None:
    path = _config(tmp_path, '[secrets.k]\nenv = "A"\nfile = "b"\n')
    with pytest.raises(ConfigError, match="set exactly one of env or file"):
        load_config(path)


def test_a_file_secret_is_read_relative_to_the_config_without_its_newline(tmp_path: Path) -> None:
    (tmp_path / "k.txt").write_text("v4lue\n")
    path = _config(tmp_path, '[secrets.k]\nfile = "k.txt"\n[overrides.m]\nsecrets = ["k"]\n')
    config = load_config(path)
    assert {"k": "v4lue"} == module_secrets("m", config).values
    assert {} == module_secrets("other", config).values


def test_a_missing_secret_file_names_the_key_and_never_a_value(tmp_path: Path) -> None:
    path = _config(tmp_path, '[secrets.k]\nfile = "gone.txt"\n[overrides.m]\nsecrets = ["k"]\n')
    with pytest.raises(ConfigError, match=rf"^{path}: secrets\.k\.file: cannot read"):
        module_secrets("m", load_config(path))


def test_the_values_never_show_in_a_repr(tmp_path: Path) -> None:
    (tmp_path / "k.txt").write_text("v4lue")
    path = _config(tmp_path, '[secrets.k]\nfile = "k.txt"\n[overrides.m]\nsecrets = ["k"]\n')
    assert "v4lue" not in repr(module_secrets("m", load_config(path)))
