"""The hostile corpus: each attack is its own real component (tests/assets/attacks), run
next to a bystander. Containment is the same four things every time: the attack ends
as the expected kind of error (or is harmless), the attacker's state is untouched, the
bystander handles its events afterwards (the engine is alive), and the engine stops
cleanly. The attack-specific details are in the test_hostile_*.py files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from cove import ModuleState, Trajectory
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.http_server import LocalServer, local_http_server
from tests.helpers.modules import write_engine_config
from tests.helpers.security import op_event, probe_module

UNDYING = {"max_failures": 1_000_000_000, "backoff_initial": "1ms", "backoff_max": "1ms"}


@dataclass(frozen=True)
class Attack:
    guest: str
    fields: dict[str, Any]
    outcome: str | tuple[str, ...]
    """What the attacker's (last) trajectory error starts with (one of them); "" for an
    event that succeeds, its harm cut by the host."""
    manifest: dict[str, Any] = field(default_factory=dict)
    engine: str = ""
    failures: int = 1
    """Attempts until the attacker is dead (the operator's restart cap for the undying)."""


CORPUS = {
    "sleep-past-the-deadline": Attack(
        "sleeper",
        {},
        "deadline limit exceeded: handle ran longer than 300 ms",
        {"resources": {"timeout": "300ms"}},
    ),
    "slow-http-drip": Attack(
        "dripper",
        {},
        # The fetch ends at the call's deadline; on a loaded machine the guest may not
        # get to return the error before the deadline's trap ends the call instead.
        ("handle returned an error: timeout: http: ", "deadline limit exceeded: handle ran"),
        {"resources": {"timeout": "500ms"}},
    ),
    "self-feeding-emitter": Attack(
        "emitter", {"n": 999}, "handle returned an error: limit-exceeded: events: more than 100"
    ),
    "event-impersonation": Attack(
        "impersonator",
        {"name": "bystander.op"},
        "handle returned an error: denied: events: module 'attacker' may not emit 'bystander.op'",
    ),
    "huge-key": Attack(
        "oversize", {"what": "key"}, "handle returned an error: invalid-input: store: the key"
    ),
    "huge-url": Attack(
        "oversize", {"what": "url"}, "handle returned an error: invalid-input: http: the url"
    ),
    "huge-log-line": Attack("oversize", {"what": "log", "size": 5_000_000}, ""),
    "huge-exception": Attack("raiser", {"size": 5_000_000}, "handle returned an error: "),
    "markup-injection": Attack(
        "raiser", {"text": "[/] x [/red]"}, "handle returned an error: ValueError: [/] x [/red]"
    ),
    "undying-restart-policy": Attack(
        "raiser",
        {"text": "again"},
        "handle returned an error: ValueError: again",
        {"restart": UNDYING},
        '[limits.restart]\nmax_failures = 3\nbackoff_initial = "10ms"\n',
        failures=3,
    ),
    "memory-bomb-retained": Attack(
        "bomb",
        {},
        "handle returned an error: MemoryError",  # the grow refused at the cap
        {"resources": {"memory": "64MiB"}, "restart": {"max_failures": 3}},
        failures=3,
    ),
    "stdout-write-then-panic": Attack("talker", {}, "handle trapped: "),
    "stdout-flood": Attack("flooder", {"lines": 100_000}, ""),
    "print-with-logging-denied": Attack(
        "printer", {}, "", engine='[policy.modules.attacker]\ndeny = ["logging"]\n'
    ),
}


@pytest.fixture(scope="module")
def drip() -> Iterator[LocalServer]:
    with local_http_server({"/drip": (200, {}, b"x" * 10_000)}, dripping=frozenset({"/drip"})) as (
        server
    ):
        yield server


@pytest.mark.slow
@pytest.mark.timeout(1800)  # the first row builds and compiles the corpus on a cold cache
@pytest.mark.parametrize("name", CORPUS)
async def test_each_attack_is_contained_next_to_a_bystander(
    tmp_path: Path,
    attacks: dict[str, Path],
    probe_wasm: Path,
    drip: LocalServer,
    name: str,
) -> None:
    attack = CORPUS[name]
    fields = dict(attack.fields)
    manifest = dict(attack.manifest)
    if attack.guest == "dripper":
        fields["url"] = drip.url("/drip")
        manifest["http_allow"] = [drip.authority]
    attacker = probe_module(tmp_path, attacks[attack.guest], "attacker", **manifest)
    bystander = probe_module(tmp_path, probe_wasm, "bystander")
    config = write_engine_config(tmp_path / "engine.toml", [attacker, bystander], attack.engine)
    trajectories: list[Trajectory] = []
    with capture_logs() as logs:
        async with running_engine(config, trajectories=trajectories) as engine:
            await engine.publish([op_event("bystander", "count")])
            await engine.publish([op_event("attacker", "attack", **fields)])

            def settled() -> bool:
                mine = [t for t in trajectories if t.module == "attacker"]
                return len(mine) == attack.failures and (
                    not attack.outcome or engine.runners["attacker"].state == ModuleState.DEAD
                )

            await wait_until(settled, what=f"{name} settled")
            await engine.publish([op_event("bystander", "count")])
            await wait_until(lambda: state_json(engine, "bystander", "count") == 2, what="count")
            attacker_keys = engine.store.list_keys("attacker", "")
            bystander_state = engine.runners["bystander"].state
        final = {status.name: status.state for status in engine.final_status}
    errors = [t.error for t in trajectories if t.module == "attacker"]
    assert attack.failures == len(errors)
    assert all(error.startswith(attack.outcome) for error in errors), errors[-1][:300]
    assert all(len(error) < 2_200 for error in errors)  # cut, however much was raised
    assert [] == attacker_keys
    assert ModuleState.RUNNING == bystander_state
    assert {"attacker": "stopped", "bystander": "stopped"} == final
    if attack.guest == "printer":
        assert not [e for e in logs if e.get("module") == "attacker" and "stream" in e]
