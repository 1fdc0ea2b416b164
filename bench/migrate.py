"""State migration of 100,000 keys: each value rewritten as ``{"n": value}``, against the same
rewrite done by plain SQLite, in this one run.

Rows:
  * sqlite: read the 100,000 rows, rewrite each value, write them back in one
    transaction, by the ``sqlite3`` module directly (the baseline);
  * store: the engine's ``Store.migrate_state`` given the rewritten values
    (the migration's commit alone);
  * native: a native plugin's ``migrate`` through the engine (``migrate_and_init``:
    overlay, init on it, one commit with the new version);
  * wasm: the same with a Python guest's ``@on_migrate`` (componentize-py).

The target: the wasm row at most 5 s. Each row starts from a fresh copy of the
seeded database; the median of ``--rounds`` runs is shown.

Run: .venv/bin/python bench/migrate.py [--keys N] [--rounds R] [--all-cores]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import BENCH, CACHE, bench_guest, engine_bench_args, print_table

from cove._capabilities._budgets import TokenBucket
from cove._config import EngineConfig
from cove._engine._instance import ModuleInstance
from cove._engine._loader import build_host
from cove._engine._migrate import migrate_and_init
from cove._hosts._wasm_runtime import WasmRuntime
from cove._manifest import Manifest, load_manifest
from cove._store._sqlite import SqliteStore
from cove._units import parse_duration_ms

MODULE = "migrating"
TARGET_S = 5.0


def _seed(path: Path, keys: int) -> None:
    store = SqliteStore(path)
    writes: dict[str, bytes | None] = {f"item:{n:06d}": str(n).encode() for n in range(keys)}
    store.migrate_state(MODULE, "0.1.0", writes, sum(len(k) + 6 for k in writes))
    store.close()


def _sqlite(path: Path) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    rows = db.execute(
        "SELECT key, value FROM state WHERE module = ? AND substr(key, 1, 5) = 'item:'", (MODULE,)
    ).fetchall()
    db.executemany(
        "INSERT OR REPLACE INTO state (module, key, value) VALUES (?, ?, ?)",
        [(MODULE, k, json.dumps({"n": json.loads(v)}).encode()) for k, v in rows],
    )
    db.execute("COMMIT")
    db.close()


def _store(path: Path) -> None:
    store = SqliteStore(path)
    items = store.state_items(MODULE)
    writes: dict[str, bytes | None] = {
        k: json.dumps({"n": json.loads(v)}).encode() for k, v in items
    }
    store.migrate_state(MODULE, "0.2.0", writes, store.state_bytes(MODULE) * 2)
    store.close()


def _engine(manifest: Manifest, tmp: Path) -> Callable[[Path], None]:
    config = EngineConfig.model_validate(
        {"data_dir": str(tmp), "wasm": {"cache_dir": str(CACHE / "compiled")}}
    )
    runtime = WasmRuntime(config.cache_path, parse_duration_ms(config.wasm.epoch_tick))

    def run(path: Path) -> None:
        store = SqliteStore(path)
        loaded = build_host(manifest, config, runtime, lambda *a: None)
        limits = loaded.grants.limits
        bucket = TokenBucket(limits.emit_rate, limits.emits)
        instance = ModuleInstance(loaded, store, None, None, lambda *a: None, bucket)
        migrate_and_init(instance, store)
        instance.close()
        if store.state_version(MODULE) != "0.2.0":
            raise SystemExit("the migration did not record 0.2.0")
        store.close()

    return run


def _timed(seeded: Path, tmp: Path, step: Callable[[Path], None], rounds: int) -> list[float]:
    samples = []
    for n in range(rounds):
        path = tmp / f"run-{n}.db"
        shutil.copyfile(seeded, path)
        start = time.perf_counter()
        step(path)
        samples.append(time.perf_counter() - start)
        for leftover in tmp.glob(f"run-{n}.db*"):
            leftover.unlink()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = engine_bench_args(parser)
    wasm_manifest, _ = bench_guest(MODULE)
    native_manifest = load_manifest(BENCH / "assets" / "migrating_native")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        seeded = tmp / "seeded.db"
        _seed(seeded, args.keys)
        steps: list[tuple[str, Callable[[Path], None]]] = [
            ("sqlite (baseline)", _sqlite),
            ("store.migrate_state", _store),
            ("native plugin migrate", _engine(native_manifest, tmp)),
            ("wasm guest @on_migrate", _engine(wasm_manifest, tmp)),
        ]
        medians = {
            name: statistics.median(_timed(seeded, tmp, s, args.rounds)) for name, s in steps
        }
    base = medians["sqlite (baseline)"]
    rows = [
        (name, f"{seconds:.2f}", f"{seconds / base:.1f}x", f"{args.keys / seconds:,.0f}")
        for name, seconds in medians.items()
    ]
    print_table(
        f"Migrating {args.keys:,} keys (median of {args.rounds})",
        rows,
        ("row", "seconds", "vs sqlite", "keys/s"),
    )
    wasm = medians["wasm guest @on_migrate"]
    verdict = "met" if wasm <= TARGET_S else "NOT met"
    print(f"\ntarget: wasm migration of {args.keys:,} keys <= {TARGET_S:.0f} s: {verdict}")


if __name__ == "__main__":
    main()
