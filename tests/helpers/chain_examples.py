"""The chain examples (examples/erc20_watcher, examples/balance_monitor) on a test engine.

Each writer copies the shipped module, changes only the lines a test must
(the local endpoint, a faster schedule), and returns its directory.
"""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account

from cove import Engine
from cove._sources._chain import state_key
from tests.helpers.anvil import Anvil
from tests.helpers.engine import state_json, wait_until
from tests.helpers.modules import example_module, toml_value, write_engine_config, write_manifest
from tests.helpers.token import DEV, balance_of

WATCHER = "erc20-watcher"
MONITOR = "balance-monitor"
PASSPHRASE_ENV = "COVE_TEST_WATCHER_PASS"
PASSPHRASE = "correct horse battery staple"


def watcher_module(directory: Path) -> Path:
    return example_module("erc20_watcher", directory)


def monitor_module(directory: Path, endpoint: str, every: str = "300ms") -> Path:
    """The monitor POSTing to ``endpoint`` (an http://host:port/path URL) every ``every``."""
    authority = endpoint.split("/")[2]
    return example_module(
        "balance_monitor",
        directory,
        {
            'allow = ["127.0.0.1:8790"]': f"allow = [{toml_value(authority)}]",
            'endpoint = "http://127.0.0.1:8790/balances"': f"endpoint = {toml_value(endpoint)}",
            'every = "2s"': f"every = {toml_value(every)}",
        },
    )


def chain_section(anvil: Anvil) -> str:
    return (
        f"[[chains]]\nchain_id = 31337\nhttp = {toml_value(anvil.http_url)}\n"
        'poll_interval = "20ms"\n'
    )


def watcher_identity(directory: Path) -> tuple[str, str]:
    """A keystore for the watcher: (its engine-config section, its address).

    The passphrase is read from ``PASSPHRASE_ENV`` (the test sets it). A low
    scrypt cost keeps the test quick; the file is a standard v3 keystore.
    """
    account = Account.create()
    path = directory / "watcher-key.json"
    path.write_text(json.dumps(Account.encrypt(account.key, PASSPHRASE, iterations=2**12)))
    section = (
        f"[identity.modules.{WATCHER}]\n"
        f"keystore = {toml_value(str(path))}\npassphrase_env = {toml_value(PASSPHRASE_ENV)}\n"
    )
    return section, account.address


async def source_started(engine: Engine) -> None:
    """Wait until the chain source has taken its start position (the head)."""
    await wait_until(
        lambda: engine.store.source_state(state_key(31337)) is not None, what="the chain source"
    )


def watched_balances(engine: Engine) -> dict[str, int]:
    """The watcher's balance of each dev account (0 when it never saw one)."""
    return {holder: state_json(engine, WATCHER, f"balance:{holder}") or 0 for holder in DEV}


def chain_balances(anvil: Anvil, token: str) -> dict[str, int]:
    return {holder: balance_of(anvil, token, holder) for holder in DEV}


BLOCKS = "blocks"
BLOCK_RECORDER = """
from cove import Plugin
from cove.plugin import SetState


class Blocks(Plugin):
    def handle_event(self, event, ctx):
        block = event.payload
        seen = ctx.state.get("blocks", [])
        return [SetState("blocks", [*seen, [block.number, block.hash, block.parent_hash]])]
"""


def block_recorder(directory: Path) -> Path:
    """A native plugin keeping every block it is handed: the witness of "no missed block"."""
    module = write_manifest(
        directory,
        BLOCKS,
        kind="python",
        entry="blocks:Blocks",
        required=["store"],
        subscriptions=[{"kind": "block", "chain_id": 31337}],
    )
    (module / "blocks.py").write_text(BLOCK_RECORDER)
    return module


def both_config(directory: Path, anvil: Anvil, endpoint: str) -> tuple[Path, str]:
    """One engine config running both examples on ``anvil``: (its path, the watcher's address).

    A block recorder (``BLOCKS``) rides along on the same chain source. The
    watcher's passphrase is read from ``PASSPHRASE_ENV``; the caller sets it.
    """
    identity, signer = watcher_identity(directory)
    modules = [
        watcher_module(directory / "erc20_watcher"),
        monitor_module(directory / "balance_monitor", endpoint),
        block_recorder(directory / "blocks"),
    ]
    path = write_engine_config(directory / "engine.toml", modules, chain_section(anvil) + identity)
    return path, signer
