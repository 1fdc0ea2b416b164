"""Engine config ``[cluster]``: this engine shares its modules with others (docs/scale-out.md).

Engines with the same ``[store]`` PostgreSQL and a ``[cluster]`` section each run
a share of the modules: a module runs on the engine holding its lease, and a
lease not renewed within ``lease_ttl`` (the engine died, paused or lost the
database) is taken by another. Failover takes about ``lease_ttl`` plus one
``renew_every``. The journal is PostgreSQL's by default; ``journal = "jetstream"``
puts it on a NATS JetStream stream instead (state, cursors and leases stay in
PostgreSQL).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ._config_base import Duration, StrictModel
from ._units import parse_duration_ms


class ClusterSettings(StrictModel):
    engine_id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$",
        description="This engine's name in the cluster, unique among its engines: leases, "
        "`cove module list` and the commit audit name it.",
    )
    lease_ttl: Duration = Field(
        default="4s",
        description="How long a lease lasts unrenewed: an engine silent that long loses its "
        "modules to the others.",
    )
    renew_every: Duration = Field(
        default="1s",
        description="How often the engine renews its leases, says it is alive, and takes free "
        "or expired ones (at most a third of `lease_ttl`).",
    )

    journal: Literal["postgres", "jetstream"] = Field(
        default="postgres",
        description='Where the shared journal lives: `"postgres"` (a table of the `[store]` '
        'database) or `"jetstream"` (a NATS JetStream stream at `nats_url`).',
    )
    nats_url: str | None = Field(
        default=None,
        pattern=r"^(nats|tls)://[^\s/@]+$",
        description='The NATS server of `journal = "jetstream"` (`nats://host:port`; no '
        "credentials in it).",
    )
    stream: str = Field(
        default="cove",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="The cluster's JetStream stream (made when missing); its subjects are "
        "`cove.<stream>.<kind>.<source>`.",
    )
    dedup_window: Duration = Field(
        default="2m",
        description="The stream's duplicate window: an event id journaled again within it "
        "is dropped; one older than it is journaled again.",
    )

    @model_validator(mode="after")
    def _renew_within_ttl(self) -> ClusterSettings:
        if parse_duration_ms(self.renew_every) * 3 > parse_duration_ms(self.lease_ttl):
            raise ValueError("renew_every must be at most a third of lease_ttl")
        if self.journal == "jetstream" and self.nats_url is None:
            raise ValueError('journal = "jetstream" needs nats_url (nats://host:port)')
        return self
