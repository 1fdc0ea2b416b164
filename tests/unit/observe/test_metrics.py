"""The metrics collector: families read from module samples, latency buckets cumulative."""

from __future__ import annotations

from dataclasses import dataclass, field

from cove._observe._metrics import (
    LATENCY_BUCKETS,
    EngineCollector,
    LatencyHistograms,
    exposition,
    new_registry,
)


@dataclass(frozen=True)
class Sample:
    name: str
    state: str
    handled: int = 0
    failed: int = 0
    restarts: int = 0
    queue_depth: int = 0
    fuel: int = 0
    state_bytes: int = 0
    outbox_backlog: int = 0
    memory_high_water: int = 0
    skipped: int = 0
    dead_letters: int = 0
    budgets: dict[str, dict[str, int]] = field(default_factory=dict)


def _text(samples: list[Sample], latency: LatencyHistograms | None = None) -> list[str]:
    collector = EngineCollector(
        lambda: samples, ["running", "dead"], latency or LatencyHistograms(), dict
    )
    return exposition(new_registry(collector)).decode().splitlines()


def test_modules_are_counted_by_state_including_empty_states() -> None:
    lines = _text([Sample("a", "running"), Sample("b", "running")])
    assert 'cove_modules{state="running"} 2.0' in lines
    assert 'cove_modules{state="dead"} 0.0' in lines


def test_per_module_counters_and_gauges_come_from_the_sample() -> None:
    sample = Sample("a", "running", handled=7, failed=2, restarts=1, queue_depth=3,
                    fuel=1_000, state_bytes=64, outbox_backlog=4, skipped=5, dead_letters=6)  # fmt: skip
    lines = _text([sample])
    for expected in (
        'cove_module_events_handled_total{module="a"} 7.0',
        'cove_module_events_failed_total{module="a"} 2.0',
        'cove_module_restarts_total{module="a"} 1.0',
        'cove_module_events_skipped_total{module="a"} 5.0',
        'cove_module_queue_depth{module="a"} 3.0',
        'cove_module_fuel_consumed_total{module="a"} 1000.0',
        'cove_module_state_bytes{module="a"} 64.0',
        'cove_module_outbox_backlog{module="a"} 4.0',
        'cove_module_dead_letters{module="a"} 6.0',
    ):
        assert expected in lines


def test_latency_buckets_are_cumulative_with_sum_and_count() -> None:
    latency = LatencyHistograms()
    latency.observe_many("a", [50_000, 3_000_000])
    latency.observe_many("a", [3_000_000, 99_000_000_000])
    lines = _text([Sample("a", "running")], latency)
    assert 'cove_module_handle_seconds_bucket{le="0.0001",module="a"} 1.0' in lines
    assert 'cove_module_handle_seconds_bucket{le="0.005",module="a"} 3.0' in lines
    assert (
        f'cove_module_handle_seconds_bucket{{le="{LATENCY_BUCKETS[-1]}",module="a"}} 3.0' in lines
    )
    assert 'cove_module_handle_seconds_bucket{le="+Inf",module="a"} 4.0' in lines
    assert 'cove_module_handle_seconds_count{module="a"} 4.0' in lines
    assert any(
        line.startswith('cove_module_handle_seconds_sum{module="a"} 99.006') for line in lines
    )
