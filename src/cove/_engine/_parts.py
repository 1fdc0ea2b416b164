"""Engine parts made from the config alone, apart from the engine's wiring."""

from __future__ import annotations

from .._config import EngineConfig
from .._observe._trajectories import Retention, TrajectoryStore
from .._store._base import Store
from .._units import parse_duration_ms
from ._commit import Committer


def trajectory_store(config: EngineConfig) -> TrajectoryStore | None:
    """The trajectory store of ``[trajectories]``, or None when they are off."""
    settings = config.trajectories
    if not settings.enabled:
        return None
    return TrajectoryStore(
        config.data_path / "trajectories.db",
        Retention(parse_duration_ms(settings.max_age), settings.max_bytes),
        parse_duration_ms(settings.flush_interval),
    )


def committer_for(config: EngineConfig, store: Store) -> Committer:
    """The group commit of ``[commit]`` over ``store``."""
    commit = config.commit
    return Committer(store, commit.mode, parse_duration_ms(commit.max_delay), commit.max_batch)
