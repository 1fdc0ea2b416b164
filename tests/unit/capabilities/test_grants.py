"""cove._capabilities._grants: a module's declaration capped by operator policy."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cove._capabilities._grants import Limits, resolve_grants, resolve_limits
from cove._config_limits import DEFAULT_LIMITS, MAX_LIMITS
from cove._units import parse_duration_ms
from cove.errors import CapabilityError
from tests.helpers.fakes import engine_config, manifest

# grants ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy",
    [{"deny": ["http"]}, {"modules": {"fetcher": {"deny": ["http"]}}}],
    ids=["global", "per-module"],
)
def test_required_denied_capability_refuses_the_module(policy: dict[str, Any]) -> None:
    """A denied required capability is a CapabilityError naming module and capability."""
    m = manifest("fetcher", required=["store", "http"])
    with pytest.raises(CapabilityError) as info:
        resolve_grants(m, engine_config(policy=policy))
    assert "fetcher" == info.value.module
    assert "module 'fetcher'" in str(info.value)
    assert "requires 'http'" in str(info.value)


def test_every_refused_capability_is_named() -> None:
    """When several required capabilities are denied, all of them are listed."""
    m = manifest("greedy", required=["store", "http", "messaging"])
    with pytest.raises(CapabilityError) as info:
        resolve_grants(
            m, engine_config(policy={"deny": ["http"], "modules": {"greedy": {"deny": ["store"]}}})
        )
    assert "requires 'http', 'store'" in str(info.value)
    assert "denies them" in str(info.value)


def test_per_module_deny_does_not_touch_other_modules() -> None:
    """A deny under [policy.modules.x] applies to x only."""
    config = engine_config(policy={"modules": {"other": {"deny": ["http"]}}})
    grants = resolve_grants(manifest("fetcher", required=["http"]), config)
    assert grants.allows("http")


def test_optional_denied_capability_is_dropped() -> None:
    """A denied optional capability is simply not granted; it stays declared."""
    m = manifest("m", required=["store"], optional=["http", "messaging"])
    grants = resolve_grants(m, engine_config(policy={"deny": ["http"]}))
    assert frozenset({"store", "messaging", "logging", "config"}) == grants.granted
    assert "http" in grants.declared
    assert not grants.allows("http")


def test_logging_and_config_are_granted_without_asking() -> None:
    """Every module may log and read its config, declared or not."""
    grants = resolve_grants(manifest("m"), engine_config())
    assert frozenset({"logging", "config"}) == grants.granted
    assert frozenset({"logging", "config"}) == grants.declared
    assert grants.allows("logging")
    assert grants.allows("config")
    assert not grants.allows("store")


def test_http_allow_is_the_manifest_list_filtered_by_policy() -> None:
    """The operator's per-module http_allow keeps only patterns it covers."""
    m = manifest(
        "m", required=["http"], capabilities={"http": {"allow": ["a.com", "b.com", "*.c.com"]}}
    )
    assert ("a.com", "b.com", "*.c.com") == resolve_grants(m, engine_config()).http_allow
    config = engine_config(policy={"modules": {"m": {"http_allow": ["b.com", "*.c.com", "d.com"]}}})
    assert ("b.com", "*.c.com") == resolve_grants(m, config).http_allow


def test_http_allow_is_empty_when_http_is_not_granted() -> None:
    """An optional http that was denied leaves no allowlist behind."""
    m = manifest("m", optional=["http"], capabilities={"http": {"allow": ["a.com"]}})
    assert () == resolve_grants(m, engine_config(policy={"deny": ["http"]})).http_allow


def test_messaging_transports_come_from_the_manifest() -> None:
    """``[capabilities.messaging] transports`` restricts sends; absent means any."""
    m = manifest("m", required=["messaging"], capabilities={"messaging": {"transports": ["sms"]}})
    assert ("sms",) == resolve_grants(m, engine_config()).transports
    assert resolve_grants(manifest("m", required=["messaging"]), engine_config()).transports is None


# limits -------------------------------------------------------------------------------


def test_limits_use_the_engine_default_when_the_module_asks_nothing() -> None:
    """No ``[resources]`` means the engine's ``[limits.default]``."""
    assert Limits(
        fuel=2_000_000_000,
        memory_bytes=256 * 1024 * 1024,
        timeout_ms=2_000,
        state_bytes=16 * 1024 * 1024,
        host_calls=1_000,
    ) == resolve_limits(manifest(), engine_config())


def test_limits_use_the_module_ask_under_the_caps() -> None:
    """A module may ask for more or less than the default, below the maximum."""
    m = manifest(
        resources={"fuel": 7, "memory": "1MiB", "timeout": "30s", "state": 10, "host_calls": 5000}
    )
    assert Limits(7, 1024 * 1024, 30_000, 10, 5000) == resolve_limits(m, engine_config())


def test_limits_never_exceed_the_global_maximum() -> None:
    """An ask above ``[limits.max]`` is cut to the maximum."""
    m = manifest(resources={"fuel": 10**15, "memory": "64GiB", "timeout": "1h"})
    limits = resolve_limits(m, engine_config())
    assert (MAX_LIMITS.fuel, MAX_LIMITS.memory, 60_000) == (
        limits.fuel,
        limits.memory_bytes,
        limits.timeout_ms,
    )


def test_limits_never_exceed_the_per_module_maximum() -> None:
    """``[policy.modules.<name>.max]`` caps that module, and the default too."""
    config = engine_config(policy={"modules": {"mod": {"max": {"fuel": 100, "timeout": "1s"}}}})
    limits = resolve_limits(manifest("mod", resources={"fuel": 1000}), config)
    assert (100, 1_000) == (limits.fuel, limits.timeout_ms)
    other = resolve_limits(manifest("other", resources={"fuel": 1000}), config)
    assert 1000 == other.fuel


def test_partial_default_section_keeps_builtin_defaults_for_other_fields() -> None:
    """Setting one default (e.g. fuel) leaves the built-in default for the rest."""
    limits = resolve_limits(manifest(), engine_config(limits={"default": {"fuel": 5}}))
    assert 5 == limits.fuel
    assert DEFAULT_LIMITS.memory == limits.memory_bytes
    assert DEFAULT_LIMITS.state == limits.state_bytes


def test_partial_max_section_keeps_builtin_caps_for_other_fields() -> None:
    """Setting one maximum does not lift the built-in maxima of the others."""
    m = manifest(resources={"memory": "64GiB"})
    limits = resolve_limits(m, engine_config(limits={"max": {"fuel": 5}}))
    assert 5 == limits.fuel
    assert MAX_LIMITS.memory == limits.memory_bytes


ms = st.integers(min_value=1, max_value=10**8).map(lambda n: f"{n}ms")
sizes = st.integers(min_value=0, max_value=2**40)
counts = st.integers(min_value=1, max_value=2**40)


def limit_values(optional: bool) -> st.SearchStrategy[dict[str, Any]]:
    fields = {"fuel": counts, "memory": sizes, "timeout": ms, "state": sizes, "host_calls": counts}
    if optional:
        return st.fixed_dictionaries({}, optional=fields)
    return st.fixed_dictionaries(fields)


def as_number(field: str, value: Any) -> int:
    return parse_duration_ms(value) if field == "timeout" else int(value)


LIMIT_FIELDS = {
    "fuel": "fuel",
    "memory": "memory_bytes",
    "timeout": "timeout_ms",
    "state": "state_bytes",
    "host_calls": "host_calls",
}


@given(
    ask=limit_values(optional=True),
    default=limit_values(optional=False),
    global_max=limit_values(optional=True),
    module_max=limit_values(optional=True),
)
def test_limits_never_exceed_any_cap(
    ask: dict[str, Any],
    default: dict[str, Any],
    global_max: dict[str, Any],
    module_max: dict[str, Any],
) -> None:
    """Each limit is the ask (or default) cut to the smallest cap that is set."""
    config = engine_config(
        limits={"default": default, "max": global_max},
        policy={"modules": {"mod": {"max": module_max}}},
    )
    limits = resolve_limits(manifest("mod", resources=ask), config)
    for field, attribute in LIMIT_FIELDS.items():
        actual = getattr(limits, attribute)
        global_cap = global_max.get(field, getattr(MAX_LIMITS, field))
        caps = [as_number(field, global_cap)]
        if field in module_max:
            caps.append(as_number(field, module_max[field]))
        assert all(actual <= cap for cap in caps)
        wanted = as_number(field, ask.get(field, default[field]))
        assert min([wanted, *caps]) == actual


def test_policy_wildcard_admits_the_module_hosts_it_covers() -> None:
    """An operator's ``*.c.com`` keeps a module's ``api.c.com``; exact spelling is not needed."""
    m = manifest(
        "m", required=["http"], capabilities={"http": {"allow": ["api.c.com", "c.com", "x.org"]}}
    )
    config = engine_config(policy={"modules": {"m": {"http_allow": ["*.c.com"]}}})
    assert ("api.c.com",) == resolve_grants(m, config).http_allow


# chain ---------------------------------------------------------------------------------

CHAINS = [{"chain_id": 31337, "http": "http://127.0.0.1:8545"}]


def test_chain_grant_is_the_declared_chains_the_engine_configures() -> None:
    """An optional chain capability keeps the configured ids and drops the others."""
    m = manifest("watcher", optional=["chain"], capabilities={"chain": {"chains": [31337, 1]}})
    grants = resolve_grants(
        m,
        engine_config(
            chains=CHAINS, policy={"modules": {"watcher": {"chain_methods": ["anvil_mine"]}}}
        ),
    )
    assert grants.chains == (31337,)
    assert grants.chain_methods == ("anvil_mine",)


def test_required_chain_missing_from_the_engine_config_refuses_the_module() -> None:
    m = manifest("watcher", required=["chain"], capabilities={"chain": {"chains": [1]}})
    with pytest.raises(CapabilityError, match=r"requires chain ids \[1\].*\[\[chains\]\]"):
        resolve_grants(m, engine_config(chains=CHAINS))
