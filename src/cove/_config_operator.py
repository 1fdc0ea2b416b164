"""Engine config sections for the operator surface: trajectories, metrics, control plane.

Kept apart from ``_config.py`` so the operator surface can grow without
touching the core config model; ``EngineConfig`` only holds these sections.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from ._config_base import Duration, StrictModel, is_loopback
from ._units import parse_size_bytes


class TrajectorySettings(StrictModel):
    """``[trajectories]``: durable per-event records, with retention by age and size."""

    enabled: bool = Field(default=True, description="Store a trajectory for every handled event.")
    max_age: Duration = Field(default="7d", description="Drop trajectories older than this.")
    max_size: int | str = Field(
        default=256 * 1024 * 1024,
        description="Drop the oldest trajectories once the stored records exceed this size.",
    )
    flush_interval: Duration = Field(
        default="250ms", description="How often the writer thread stores the queued records."
    )

    @field_validator("max_size")
    @classmethod
    def _size(cls, value: int | str) -> int:
        size = parse_size_bytes(value)
        if size < 1024:
            raise ValueError("max_size must be at least 1KiB")
        return size

    @property
    def max_bytes(self) -> int:
        assert isinstance(self.max_size, int)  # the validator made it one
        return self.max_size


class MetricsSettings(StrictModel):
    """``[metrics]``: a Prometheus listener of its own (``/metrics`` is also on the control plane)."""

    host: str = Field(default="127.0.0.1", description="Address of the metrics listener.")
    port: Annotated[int, Field(ge=0, le=65_535)] = Field(
        default=9464, description="Port of the metrics listener (0 picks a free one)."
    )


class ControlSettings(StrictModel):
    """``[control]``: the control-plane HTTP API, CLI target and console.

    The bearer token never sits in this file: ``token_env`` names an
    environment variable, ``token_file`` a file that holds it.
    """

    host: str = Field(default="127.0.0.1", description="Address of the control-plane listener.")
    port: Annotated[int, Field(ge=0, le=65_535)] = Field(
        default=8788, description="Port of the control-plane listener (0 picks a free one)."
    )
    token_env: str | None = Field(
        default=None, description="Environment variable holding the bearer token."
    )
    token_file: Path | None = Field(default=None, description="File holding the bearer token.")
    create_token: bool = Field(
        default=False,
        description=(
            "When `token_file` does not exist, write a new random token there (mode 0600) at "
            "start; `cove run` then prints the console URL with it (for a local engine)."
        ),
    )
    read_token_env: str | None = Field(
        default=None,
        description="Environment variable holding a read-only token (module data, no changes).",
    )
    read_token_file: Path | None = Field(
        default=None, description="File holding the read-only token."
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description=(
            "Host names (without port) requests may name besides the loopback ones; a request "
            "naming another gets 421 (DNS rebinding). Off loopback with none listed: any."
        ),
    )
    load_dirs: list[Path] = Field(
        default_factory=list,
        description=(
            "Directories `POST /v1/modules` may load from, besides the configured modules' own."
        ),
    )
    allow_python_loads: bool = Field(
        default=False,
        description=(
            'Let `POST /v1/modules` load `kind = "python"` modules (in-process code: the '
            "admin token then equals code execution as the engine's user)."
        ),
    )
    query_workers: Annotated[int, Field(ge=1, le=16)] = Field(
        default=2, description="Threads that run trajectory queries (apart from module work)."
    )
    query_scan_chunks: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=64,
        description="Trajectory chunks (up to 256 records each) one request may scan; then it pages.",
    )

    @model_validator(mode="after")
    def _token(self) -> ControlSettings:
        if self.token_env is not None and self.token_file is not None:
            raise ValueError("set one of token_env or token_file, not both")
        if self.read_token_env is not None and self.read_token_file is not None:
            raise ValueError("set one of read_token_env or read_token_file, not both")
        if self.create_token and self.token_file is None:
            raise ValueError("create_token needs token_file (the file the new token is written to)")
        if self.token_env is None and self.token_file is None and not is_loopback(self.host):
            raise ValueError(
                f"host {self.host!r} is reachable from other machines; configure "
                "token_env or token_file, or listen on 127.0.0.1"
            )
        return self


class ListenerSettings(StrictModel):
    """``[listeners]``: what every embedded HTTP listener (webhook, control plane, metrics) tolerates.

    A client that holds a connection without making progress is closed, and
    past ``max_connections`` new connections are refused (a 503, then closed)
    while open ones are still served. Each listener also stays under a share
    of the process's open-file limit, so a flood on one port cannot leave the
    engine without file descriptors for its store, modules or other ports.
    """

    max_connections: Annotated[int, Field(ge=1, le=65_535)] = Field(
        default=256, description="Open connections per listener; more are refused."
    )
    backlog: Annotated[int, Field(ge=1, le=4_096)] = Field(
        default=64, description="Connections the kernel queues before the engine accepts them."
    )
    header_timeout: Duration = Field(
        default="5s",
        description="A request's headers must arrive within this, from its first byte.",
    )
    idle_timeout: Duration = Field(
        default="5s",
        description=(
            "A connection that sends nothing for this long while a request or its body is "
            "awaited (or between keep-alive requests) is closed."
        ),
    )
    refusal_rate: Annotated[float, Field(gt=0, le=100_000)] = Field(
        default=5.0,
        description=(
            "Refused answers (401, 403, 421) per second and client address, past the burst; "
            "a client's further refusals wait for their turn. Requests let in never wait."
        ),
    )
    refusal_burst: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=20, description="Refused answers a client address gets at once before they wait."
    )
    refusal_max_delay: Duration = Field(
        default="10s", description="The longest a refused answer waits for its turn."
    )
