"""Session fixtures: real components, built once per session (and cached on disk)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from cove._hosts import _fast_call
from cove._hosts._call_path import CallPath
from tests.helpers import modules
from tests.helpers.engine import PROBE_CAPABILITIES
from tests.helpers.modules import CACHE, build_guest
from tests.helpers.nats import NatsServer
from tests.helpers.postgres import PostgresServer

# One compiled-component cache for the whole session and its subprocesses (the
# per-user default, moved): each component compiles once per suite, not once per
# test or data dir. ``<CACHE>/compiled`` is also what write_engine_config names.
os.environ["COVE_CACHE_DIR"] = str(CACHE)
# Cranelift only, unless the run asks otherwise: the suite starts many short engine
# processes, and under `tiered` each one that exits before its background compile
# ends leaves only Winch's entry, so the next one compiles Cranelift's again. The
# tiered path has its own tests (test_tiered_compile.py, test_tiering.py), which set
# the compiler themselves; `COVE_WASM_COMPILER=tiered make test` runs it everywhere.
os.environ.setdefault("COVE_WASM_COMPILER", "cranelift")


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Code under test may configure structlog (e.g. `cove run --mock` filters
    to warnings); never let that leak into the next test's captured logs."""
    yield
    structlog.reset_defaults()


@pytest.fixture(autouse=True, scope="session")
def _local_engine_records(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Engines under test record their token files in a temporary state dir, not the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COVE_STATE_DIR", str(tmp_path_factory.mktemp("cove-state")))
        yield


@pytest.fixture(scope="session")
def probe_wasm() -> Path:
    """The probe guest (tests/assets/probe) compiled with componentize-py."""
    return build_guest("probe", PROBE_CAPABILITIES)


@pytest.fixture(params=["fast", "ctypes"])
def call_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a wasm-host test on both implementations of the call path (engine configs get
    ``[wasm] call_path``): the C extension ("fast") and ctypes."""
    if request.param == "fast" and not _fast_call.COMPILED:
        pytest.skip(f"the C extension is not usable: {_fast_call.EXT_PROBLEM}")
    monkeypatch.setattr(modules, "WASM_CALL_PATH", request.param)
    return str(request.param)


@pytest.fixture(params=["C", "ctypes"])
def fast_impl(request: pytest.FixtureRequest) -> CallPath:
    """Run a fast-path test on the C extension and on its ctypes twin (the path to pass)."""
    if request.param == "C" and _fast_call.EXT_PROBLEM is not None:
        pytest.skip(_fast_call.EXT_PROBLEM)
    return CallPath(request.param == "C")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL on a loopback port for the session. One that cannot start fails the
    tests that need it, naming why (`make postgres` installs Debian's package)."""
    server = PostgresServer()
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        server.stop()
        pytest.fail(f"PostgreSQL could not be started: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    """A real nats-server with JetStream on a loopback port for the session (each test uses
    its own stream). Tests that restart the server start their own."""
    server = NatsServer()
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        server.stop()
        pytest.fail(f"nats-server could not be started: {exc}", pytrace=False)
    yield server
    server.stop()
