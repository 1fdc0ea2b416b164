"""A ``kind = "nostr"`` transport in the engine config: defaults, and refusals naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove._config import load_config
from cove._config_nostr import NostrTransportSettings
from cove.errors import ConfigError

KEY = '[identity.modules.alice]\nkeystore = "k.json"\npassphrase_env = "P"\n'
BASE = '[[transports]]\nname = "dm"\nkind = "nostr"\nrelays = ["ws://127.0.0.1:7447"]\n'


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "engine.toml"
    path.write_text(text)
    return load_config(path)


def test_a_nostr_transport_takes_its_defaults(tmp_path: Path) -> None:
    config = _load(tmp_path, BASE + 'modules = ["alice"]\n' + KEY)
    [dm] = config.transports  # type: ignore[attr-defined]
    assert isinstance(dm, NostrTransportSettings)
    assert (dm.modules, dm.lookback, dm.timeout) == (["alice"], "1h", "10s")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (BASE + 'modules = ["bob"]\n' + KEY, r"transports\.dm\.modules: no \[identity"),
        (BASE + "modules = []\n" + KEY, r"transports\[0\]\.modules"),
        (BASE.replace("ws://", "http://") + 'modules = ["alice"]\n' + KEY, r"relays"),
        (BASE + 'modules = ["alice", "alice"]\n' + KEY, "modules listed twice"),
    ],
)
def test_bad_nostr_settings_name_the_key(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        _load(tmp_path, text)
