"""Real v3 keystore files for identity tests, with a cheap scrypt so tests stay quick."""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account

KEY = "0x" + "4b" * 32
"""The test identity's private key: tests assert it never shows up anywhere."""
ADDRESS: str = Account.from_key(KEY).address
PASSPHRASE = "correct horse battery staple"


def write_keystore(path: Path, key: str = KEY, passphrase: str = PASSPHRASE) -> Path:
    """``path`` as a v3 keystore (scrypt n=2^10: the format ``cove key`` writes, cheaper)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(Account.encrypt(key, passphrase, iterations=2**10)))
    return path
