"""[[hook]] in the manifest and [hooks] in the engine config: validation and the grant check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cove._capabilities._grants import resolve_grants
from cove._config import load_config
from cove._config_hooks import HOOK_POINTS, HookPolicies
from cove._engine._hooks import hooks_of
from cove._hosts._base import HookOutcome
from cove.errors import CapabilityError, ConfigError
from tests.helpers.fakes import engine_config, manifest


def hooked(*hooks: dict[str, Any], required: list[str] | None = None) -> Any:
    return manifest("spy", required=["hooks"] if required is None else required, hook=list(hooks))


def test_a_hook_needs_the_hooks_capability_declared() -> None:
    with pytest.raises(ValidationError, match="needs 'hooks' in \\[capabilities\\]"):
        hooked({"point": "before-message"}, required=[])


def test_each_point_is_hooked_at_most_once_per_module() -> None:
    with pytest.raises(ValidationError, match="repeated: \\['observer'\\]"):
        hooked({"point": "observer"}, {"point": "observer", "priority": 3})


@pytest.mark.parametrize(
    "bad", [{"point": "before-everything"}, {"point": "observer", "timeout": "soon"}]
)
def test_an_unknown_point_or_a_bad_timeout_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        hooked(bad)


def test_a_hook_timeout_is_capped_by_the_engine_and_defaults_to_it() -> None:
    config = engine_config(hooks={"timeout": "300ms"})
    module = hooked({"point": "observer", "timeout": "5s"}, {"point": "before-commit"})
    found = hooks_of(module, config.hooks, lambda p, j: HookOutcome("pass"), lambda: "")
    assert [(h.point, h.timeout_ms) for h in found] == [("observer", 300), ("before-commit", 300)]
    shorter = hooks_of(
        hooked({"point": "observer", "timeout": "50ms"}),
        config.hooks,
        lambda p, j: HookOutcome("pass"),
        lambda: "",
    )
    assert [h.timeout_ms for h in shorter] == [50]


@pytest.mark.parametrize(
    ("policy", "why"),
    [
        ({"deny": ["hooks"]}, "the operator policy denies the 'hooks' capability"),
        (
            {"modules": {"spy": {"hook_points": ["before-commit"]}}},
            "[policy.modules.spy] hook_points does not include 'observer'",
        ),
    ],
)
def test_a_hook_that_was_not_granted_refuses_the_module(policy: dict[str, Any], why: str) -> None:
    # optional: a denied optional capability alone would not refuse the load
    module = manifest(
        "spy", optional=["hooks"], hook=[{"point": "before-commit"}, {"point": "observer"}]
    )
    with pytest.raises(CapabilityError) as caught:
        resolve_grants(module, engine_config(policy=policy))
    assert "module 'spy': cannot hook " in str(caught.value)
    assert why in str(caught.value)


def test_granted_points_load() -> None:
    module = hooked({"point": "before-commit"})
    config = engine_config(policy={"modules": {"spy": {"hook_points": ["before-commit"]}}})
    assert resolve_grants(module, config).allows("hooks")


def test_every_point_but_observer_has_a_policy_key() -> None:
    keys = {k.replace("_", "-") for k in HookPolicies.model_fields}
    assert keys == set(HOOK_POINTS) - {"observer"}


def test_a_config_error_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "engine.toml"
    path.write_text('[hooks.policy]\nmodule_dead = "fail-closed"\n')
    with pytest.raises(
        ConfigError,
        match=r"engine.toml(.|\n)*hooks.policy: .*module_dead = \"fail-closed\": .*only fail-open",
    ):
        load_config(path)
