"""Engine config sections for the operator surface: defaults, units, the token rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cove._config import EngineConfig
from cove._config_operator import ControlSettings, TrajectorySettings


def test_defaults_store_trajectories_and_serve_nothing() -> None:
    config = EngineConfig()
    assert (True, 256 * 1024 * 1024) == (
        config.trajectories.enabled,
        config.trajectories.max_bytes,
    )
    assert (None, None) == (config.control, config.metrics)


def test_sizes_and_durations_take_units() -> None:
    settings = TrajectorySettings(max_size="64MiB", max_age="3d", flush_interval="1s")
    assert 64 * 1024 * 1024 == settings.max_bytes


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"max_size": "12"}, "at least 1KiB"),
        ({"max_age": "soon"}, "expected a duration"),
        ({"flush_interval": "0ms"}, "shorter than 1ms"),
    ],
)
def test_bad_trajectory_settings_are_refused(fields: dict[str, str], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        TrajectorySettings.model_validate(fields)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_a_reachable_control_listener_needs_a_token(host: str) -> None:
    with pytest.raises(ValidationError, match="token_env or token_file"):
        ControlSettings(host=host)
    assert ControlSettings(host=host, token_env="COVE_TOKEN").token_env == "COVE_TOKEN"


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.5"])
def test_loopback_needs_no_token(host: str) -> None:
    assert host == ControlSettings(host=host).host


def test_one_token_source_only() -> None:
    with pytest.raises(ValidationError, match="not both"):
        ControlSettings(token_env="A", token_file="token")  # type: ignore[arg-type]
