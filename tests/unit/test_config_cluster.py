"""Engine config [cluster]: only on a PostgreSQL store, renewals well within the lease."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove._config import load_config
from cove.errors import ConfigError

PG = '[store]\nkind = "postgres"\ndsn = "postgresql://cove@h/db"\n'


def test_a_cluster_section_reads_with_its_defaults(tmp_path: Path) -> None:
    (tmp_path / "engine.toml").write_text(PG + '[cluster]\nengine_id = "e1"\n')
    cluster = load_config(tmp_path / "engine.toml").cluster
    assert cluster is not None
    assert ("e1", "4s", "1s") == (cluster.engine_id, cluster.lease_ttl, cluster.renew_every)
    assert ("postgres", "cove", "2m") == (cluster.journal, cluster.stream, cluster.dedup_window)


def test_a_jetstream_journal_reads_its_server_and_stream(tmp_path: Path) -> None:
    (tmp_path / "engine.toml").write_text(
        PG + '[cluster]\nengine_id = "e1"\njournal = "jetstream"\n'
        'nats_url = "nats://127.0.0.1:4222"\nstream = "prod"\ndedup_window = "10m"\n'
    )
    cluster = load_config(tmp_path / "engine.toml").cluster
    assert cluster is not None
    assert ("nats://127.0.0.1:4222", "prod", "10m") == (
        cluster.nats_url,
        cluster.stream,
        cluster.dedup_window,
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[cluster]\nengine_id = "e1"\n', 'cluster: needs [store] kind = "postgres"'),
        (PG + '[cluster]\nengine_id = "a b"\n', "cluster.engine_id"),
        (
            PG + '[cluster]\nengine_id = "e1"\nlease_ttl = "2s"\nrenew_every = "1s"\n',
            "renew_every must be at most a third of lease_ttl",
        ),
        (PG + "[cluster]\n", "cluster.engine_id"),
        (
            PG + '[cluster]\nengine_id = "e1"\njournal = "jetstream"\n',
            'journal = "jetstream" needs nats_url',
        ),
        (PG + '[cluster]\nengine_id = "e1"\njournal = "kafka"\n', "cluster.journal"),
        (
            PG + '[cluster]\nengine_id = "e1"\nnats_url = "nats://u:p@h:4222"\n',
            "cluster.nats_url",
        ),
        (PG + '[cluster]\nengine_id = "e1"\nstream = "a.b"\n', "cluster.stream"),
        (
            PG + '[cluster]\nengine_id = "e1"\n[registry]\naddress = "0x' + "00" * 20 + '"\n'
            'chain = 1\npublishers = ["0x' + "11" * 20 + '"]\n',
            "the on-chain [registry] is not run in a cluster yet",
        ),
    ],
)
def test_refusals_name_the_key(tmp_path: Path, text: str, says: str) -> None:
    (tmp_path / "engine.toml").write_text(text)
    with pytest.raises(ConfigError, match=None) as info:
        load_config(tmp_path / "engine.toml")
    assert says in str(info.value)
