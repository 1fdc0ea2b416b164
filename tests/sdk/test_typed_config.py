"""load_config: the module's [config] read into a dataclass, with errors naming the key."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cove_sdk import ConfigError, load_config
from cove_sdk.testing import MockHost

from tests.sdk.test_mock_host import MANIFEST, write_module

APP = """
from dataclasses import dataclass, field
from cove_sdk import WitWorld, load_config, on_init

__all__ = ["WitWorld"]


@dataclass
class Settings:
    greeting: str
    threshold: int = 10


@on_init
def check():
    load_config(Settings)
"""


@dataclass
class Settings:
    greeting: str
    threshold: int = 10
    ratio: float = 0.5
    tags: list[str] = field(default_factory=list)
    note: str | None = None


def host(tmp_path: Path, **config: object) -> MockHost:
    return MockHost(write_module(tmp_path, app=textwrap.dedent(APP)), config=dict(config))


def test_a_fitting_config_loads(tmp_path: Path) -> None:
    """Defaults fill the gaps; an integer is accepted where a float is wanted."""
    MockHost(
        write_module(tmp_path), config={"threshold": 3, "ratio": 1, "tags": ["a"], "note": "x"}
    )
    settings = load_config(Settings)
    assert Settings("hi", 3, 1.0, ["a"], "x") == settings
    assert isinstance(settings.ratio, float)


def test_a_wrong_type_refuses_the_module_at_init(tmp_path: Path) -> None:
    """The error names the key and what was expected."""
    with pytest.raises(ConfigError, match=r"config.threshold: expected int, got str 'ten'"):
        host(tmp_path, threshold="ten")


def test_every_problem_is_reported(tmp_path: Path) -> None:
    """Unknown keys are misspellings until proven otherwise; bools are not ints."""
    MockHost(write_module(tmp_path), config={"treshold": True, "greeting": 1})
    with pytest.raises(ConfigError) as caught:
        load_config(Settings)
    text = str(caught.value)
    assert "config.greeting: expected str, got int 1" in text
    assert "config.treshold: not a field of Settings (misspelt?)" in text


def test_missing_required_field(tmp_path: Path) -> None:
    manifest = MANIFEST.replace('greeting = "hi"', "")
    MockHost(write_module(tmp_path, manifest=manifest))
    with pytest.raises(ConfigError, match=r"config.greeting: missing; add `greeting = \.\.\.`"):
        load_config(Settings)


def test_list_items_are_checked(tmp_path: Path) -> None:
    MockHost(write_module(tmp_path), config={"tags": ["a", 2]})
    with pytest.raises(ConfigError, match=r"config.tags: \[1\]: expected str, got int 2"):
        load_config(Settings)
