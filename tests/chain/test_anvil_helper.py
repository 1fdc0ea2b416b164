"""tests/helpers/anvil.py: a node the tests start leaves nothing behind.

anvil spills old block states to ``$HOME/.foundry/anvil/tmp/anvil-state-*``
once a chain grows, and removes that directory neither on SIGTERM nor on
SIGKILL; bench runs mining thousands of blocks left tens of GB there and
filled the disk.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers.anvil import running_anvil


def _spilled(home: Path) -> list[Path]:
    return sorted((home / ".foundry" / "anvil" / "tmp").glob("anvil-state-*"))


def test_a_stopped_node_leaves_no_spilled_state_in_the_users_home() -> None:
    before = set(_spilled(Path.home()))
    with running_anvil() as node:
        assert node.state_dir is not None
        for _ in range(8):  # past the ~256 states anvil keeps in memory, so it spills
            node.mine(100)
        assert _spilled(node.state_dir)
        state_dir = node.state_dir
    assert set(_spilled(Path.home())) == before
    assert not state_dir.exists()
