"""Both store backends behind one fixture: the store tests are a conformance suite that
runs against SQLite and against a real PostgreSQL (the session's, tests/conftest.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cove._store._base import Store
from cove._store._postgres import PostgresStore
from cove._store._sqlite import SqliteStore


class Backend:
    """Opens stores on one location (a file, a database): reopening finds what was flushed."""

    def __init__(self, name: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        self.name = name
        self._path = tmp_path / "data" / "store.db"
        self._server = request.getfixturevalue("postgres") if name == "postgres" else None
        self._dsn = self._server.database() if self._server is not None else ""
        self._opened: list[Store] = []

    def open(self, clock: Callable[[], int] | None = None) -> Store:
        extra: dict[str, Any] = {} if clock is None else {"clock": clock}
        store: Store
        if self._server is None:
            store = SqliteStore(self._path, synchronous="OFF", **extra)
        else:
            store = PostgresStore(self._dsn, password=self._server.password, **extra)
        self._opened.append(store)
        return store

    def durable(self, query: str) -> list[tuple[Any, ...]]:
        """``query``'s rows read through a connection of its own: only what was committed."""
        if self._server is None:
            db = sqlite3.connect(self._path)
            try:
                return db.execute(query).fetchall()
            finally:
                db.close()
        with psycopg.connect(self._dsn, password=self._server.password) as db:
            return db.execute(query.encode()).fetchall()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield Backend(str(request.param), tmp_path, request)


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    s = backend.open()
    yield s
    s.close()
