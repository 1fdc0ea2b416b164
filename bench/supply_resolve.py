"""What a component given by pin and sources costs to get, against reading a local file.

Each row gets the same component (the test suite's probe guest, ~18 MB) the
way a load does, ROUNDS times, and reports the median against the first row
of the same run (ratios, not absolute times: the machine is shared):

- local component: ``component`` alone, read and pin-checked (today's path);
- content store hit: ``sources`` given, the blob already stored (every load
  after the first, and offline starts);
- http fetch: store emptied each round, fetched from a loopback HTTP server;
- oci fetch: store emptied each round, fetched from a loopback docker-registry
  (skipped if it is not installed).

Run: .venv/bin/python bench/supply_resolve.py [ROUNDS]
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import BENCH, print_table, rounds_argument

sys.path.insert(0, str(BENCH.parent))  # the test suite's guests, servers and registry

from cove._manifest import load_manifest, read_pinned_component
from cove._supply._fetch import FetchLimits
from cove._supply._oci_module import push
from cove._supply._resolve import Resolver
from cove._supply._store import ContentStore, sha256_pin
from tests.helpers.engine import PROBE_CAPABILITIES
from tests.helpers.http_server import local_http_server
from tests.helpers.modules import build_guest, write_manifest
from tests.helpers.oci_registry import BINARY, local_registry


def _median_ms(get: Callable[[], bytes], rounds: int, before: Callable[[], None]) -> float:
    samples = []
    for _ in range(rounds):
        before()
        start = time.perf_counter()
        get()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    rounds = rounds_argument(__doc__, 7)
    wasm_path = build_guest("probe", PROBE_CAPABILITIES)
    wasm = wasm_path.read_bytes()
    pin = sha256_pin(wasm)
    with tempfile.TemporaryDirectory(prefix="cove-bench-supply-") as tmp:
        root = Path(tmp)
        module = write_manifest(root / "probe", "probe", component=wasm_path)
        manifest = load_manifest(module)
        store = ContentStore(root / "store")
        resolver = Resolver(store, FetchLimits(1 << 30, 60.0))

        def empty() -> None:
            shutil.rmtree(root / "store", ignore_errors=True)

        rows: list[tuple[str, float]] = []
        rows.append(
            (
                "local component",
                _median_ms(lambda: read_pinned_component(manifest), rounds, lambda: None),
            )
        )
        store.put(pin, wasm)
        rows.append(
            ("content store hit", _median_ms(lambda: resolver.read(pin, []), rounds, lambda: None))
        )
        with local_http_server({"/probe.wasm": (200, {}, wasm)}) as server:
            url = server.url("/probe.wasm")
            rows.append(
                (
                    "http fetch (loopback)",
                    _median_ms(lambda: resolver.read(pin, [url]), rounds, empty),
                )
            )
        if shutil.which(BINARY):
            with local_registry(root / "registry") as address:
                reference = f"oci://{address}/cove/probe:1"
                push(module, reference, 60.0)
                rows.append(
                    (
                        "oci fetch (loopback)",
                        _median_ms(lambda: resolver.read(pin, [reference]), rounds, empty),
                    )
                )
        base = rows[0][1]
        table = [(name, f"{ms:.1f}", f"{ms / base:.2f}x") for name, ms in rows]
        print_table(
            f"getting a {len(wasm) / 1e6:.1f} MB component, median of {rounds}",
            table,
            ("path", "ms", "vs local component"),
        )


if __name__ == "__main__":
    main()
