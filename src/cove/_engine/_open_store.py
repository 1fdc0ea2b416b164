"""The store the engine config asks for: SQLite in ``data_dir`` or PostgreSQL by DSN."""

from __future__ import annotations

from .._config import EngineConfig
from .._config_secrets import read_secret
from .._store._base import Store
from .._store._sqlite import SqliteStore
from .._units import parse_duration_ms


def open_store(config: EngineConfig) -> Store:
    settings = config.store
    if settings.kind == "sqlite":
        return SqliteStore(config.data_path / "cove.db")
    assert settings.dsn is not None  # the config's validator checked it
    # Here, not at the top: psycopg takes ~100 ms to import, paid only by its users.
    from .._store._postgres import PostgresStore

    secret = settings.password_secret
    password = (
        None if secret is None else read_secret(secret, config.secrets[secret], config.source)
    )
    cluster = config.cluster
    # A paused engine's open batch must not hold the cluster's locks past half a lease.
    idle = None if cluster is None else parse_duration_ms(cluster.lease_ttl) // 2
    engine_id = None if cluster is None else cluster.engine_id
    if cluster is None or cluster.journal == "postgres":
        return PostgresStore(
            settings.dsn, password=password, idle_batch_ms=idle, engine_id=engine_id
        )
    assert cluster.nats_url is not None  # the config's validator checked it
    # Here too: nats-py is imported only by the engines that journal on JetStream.
    from .._store._jetstream import JetStreamJournal
    from .._store._postgres_jetstream import JetStreamPostgresStore

    window_s = parse_duration_ms(cluster.dedup_window) / 1000
    journal = JetStreamJournal(cluster.nats_url, cluster.stream, window_s)
    return JetStreamPostgresStore(
        settings.dsn, journal, password=password, idle_batch_ms=idle, engine_id=engine_id
    )
