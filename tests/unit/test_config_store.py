"""Engine config [store]: SQLite by default, PostgreSQL by DSN with its password a secret."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cove._config import EngineConfig, load_config
from cove._engine._open_store import open_store
from cove._store._postgres import PostgresStore
from cove._store._sqlite import SqliteStore
from cove.errors import ConfigError
from tests.helpers.postgres import PostgresServer


def test_the_default_store_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    config = EngineConfig(data_dir=tmp_path / "data")
    assert ("sqlite", None) == (config.store.kind, config.store.dsn)
    store = open_store(config)
    try:
        assert isinstance(store, SqliteStore)
        assert tmp_path / "data" / "cove.db" == store.path
    finally:
        store.close()


@pytest.mark.parametrize(
    ("store", "where", "says"),
    [
        ('kind = "postgres"', "store:", 'kind = "postgres" needs dsn'),
        ('dsn = "postgresql://h/db"', "store:", 'only for kind = "postgres"'),
        (
            'kind = "postgres"\ndsn = "postgresql://cove:hunter2@h/db"',
            "store.dsn:",
            "holds a password",
        ),
        ('kind = "postgres"\ndsn = "host=h password=hunter2"', "store.dsn:", "holds a password"),
        (
            'kind = "postgres"\ndsn = "host=h password"',
            "store.dsn:",
            "not a libpq connection string",
        ),
        (
            'kind = "postgres"\ndsn = "host=h"\npassword_secret = "pg"',
            "store.password_secret:",
            "no [secrets.pg] section",
        ),
        ('kind = "mysql"', "store.kind:", "'sqlite' or 'postgres'"),
    ],
)
def test_refusals_name_the_key_and_never_echo_a_password(
    tmp_path: Path, store: str, where: str, says: str
) -> None:
    (tmp_path / "engine.toml").write_text(f"[store]\n{store}\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "engine.toml")
    assert where in str(info.value)
    assert says in str(info.value)
    assert "hunter2" not in str(info.value)


def test_a_postgres_store_opens_with_the_password_from_its_secret(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn = postgres.database()
    (tmp_path / "engine.toml").write_text(
        f'[store]\nkind = "postgres"\ndsn = "{dsn}"\npassword_secret = "pg"\n'
        '[secrets.pg]\nenv = "COVE_TEST_PG_PASSWORD"\n'
    )
    monkeypatch.setenv("COVE_TEST_PG_PASSWORD", postgres.password)
    store = open_store(load_config(tmp_path / "engine.toml"))
    try:
        assert isinstance(store, PostgresStore)
        assert 0 == store.head()
    finally:
        store.close()


def test_a_missing_password_secret_is_a_config_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "engine.toml").write_text(
        '[store]\nkind = "postgres"\ndsn = "host=127.0.0.1 dbname=cove"\n'
        'password_secret = "pg"\n[secrets.pg]\nenv = "COVE_TEST_PG_UNSET"\n'
    )
    with pytest.raises(ConfigError, match=r"secrets\.pg\.env: environment variable"):
        open_store(load_config(tmp_path / "engine.toml"))


def test_an_engine_on_sqlite_never_imports_psycopg(tmp_path: Path) -> None:
    """psycopg takes ~100 ms to import: a config and an engine on SQLite (the CLI's
    commands, `make run`) do not pay it."""
    (tmp_path / "engine.toml").write_text('[store]\nkind = "sqlite"\n')
    code = (
        "import sys; from pathlib import Path; from cove._config import load_config; "
        "from cove._engine._engine import Engine; from cove._engine._open_store import open_store; "
        f"open_store(load_config(Path({str(tmp_path / 'engine.toml')!r}))).close(); "
        "print('psycopg' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "False" == out.stdout.strip()
