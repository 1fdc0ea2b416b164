"""examples/chain.toml (make demo-chain) and the two chain examples agree with each other."""

from __future__ import annotations

from cove import load_config
from cove._manifest import load_manifest
from cove._manifest_subscriptions import LogSubscription, TickSubscription
from tests.helpers.modules import EXAMPLES
from tests.helpers.token import FIRST_CONTRACT


def test_the_demo_config_runs_both_examples_on_the_token_they_name() -> None:
    config = load_config(EXAMPLES / "chain.toml")
    watcher = load_manifest(EXAMPLES / "erc20_watcher")
    monitor = load_manifest(EXAMPLES / "balance_monitor")
    assert [m.name for m in (watcher, monitor)] == ["erc20-watcher", "balance-monitor"]
    assert [c.chain_id for c in config.chains] == [31337]
    assert set(config.identity.modules) == {"erc20-watcher"}
    (logs,) = watcher.subscription
    assert isinstance(logs, LogSubscription)
    assert logs.address is not None and str(logs.address).lower() == FIRST_CONTRACT
    (tick,) = monitor.subscription
    assert isinstance(tick, TickSubscription)
    assert str(monitor.config["token"]).lower() == FIRST_CONTRACT
    endpoint = str(monitor.config["endpoint"])
    assert monitor.capabilities.http is not None
    assert endpoint.split("/")[2] in monitor.capabilities.http.allow
