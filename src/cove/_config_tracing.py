"""Engine config ``[tracing]``: OpenTelemetry traces of events and tool calls, sent over OTLP/HTTP.

Absent, tracing is off: the OpenTelemetry SDK is not even imported, and the
per-event path pays one ``None`` check per host call.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ._config_base import Duration, StrictModel


class TracingSettings(StrictModel):
    """``[tracing]``: where spans go and how many traces are kept."""

    endpoint: Annotated[str, Field(pattern=r"^https?://")] = Field(
        description="The OTLP/HTTP traces URL of a collector, e.g. "
        "`http://127.0.0.1:4318/v1/traces` (spans are POSTed there as protobuf)."
    )
    service_name: str = Field(
        default="cove", min_length=1, description="The `service.name` resource of every span."
    )
    sample_ratio: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=1.0,
        description="Share of traces recorded (by trace id); a trace continued from an "
        "inbound `traceparent` follows the caller's sampling decision.",
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Extra HTTP headers on every export (e.g. a tenant id); not for secrets.",
    )
    export_timeout: Duration = Field(default="10s", description="Timeout of one export request.")
    max_queue: Annotated[int, Field(ge=1)] = Field(
        default=8192,
        description="Spans waiting for export; past it new spans are dropped (never waited for).",
    )
