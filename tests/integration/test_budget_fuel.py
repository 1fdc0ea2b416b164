"""``fuel_per_hour`` on a real wasm guest (the probe, built by componentize-py): the
event that starts under the budget runs and its fuel is counted at commit; the next
one is refused before it runs, naming the budget."""

from __future__ import annotations

from pathlib import Path

from cove import Trajectory
from tests.helpers.engine import running_engine, wait_until
from tests.helpers.modules import write_engine_config
from tests.helpers.security import RETRY_QUICKLY, op_event, probe_module


async def test_events_past_the_fuel_budget_are_refused(tmp_path: Path, probe_wasm: Path) -> None:
    module = probe_module(tmp_path, probe_wasm, "burner", restart=RETRY_QUICKLY)
    budget = "\n[budgets.burner]\nfuel_per_hour = 1\n"
    config = write_engine_config(tmp_path / "engine.toml", [module], budget)
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await engine.publish([op_event("burner", "count"), op_event("burner", "count")])
        await wait_until(lambda: "budget" in engine.status()[0].last_error, what="the refusal")
        (status,) = engine.status()
    assert 1 == status.handled
    used = status.budgets["fuel"]["used"]
    assert used == status.fuel and used > 1  # the first event's fuel, all of it
    assert "budget fuel" in status.last_error
    assert "[budgets.burner] fuel_per_hour" in status.last_error
    refused = [t for t in trajectories if t.outcome == "failed"]
    assert refused and 0 == refused[0].fuel  # refused before the guest ran
