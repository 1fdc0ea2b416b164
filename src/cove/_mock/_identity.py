"""``cove run --mock`` gives a module with ``identity`` the fixed test key MockHost uses.

A real keystore is written into the run's throwaway data directory and the
engine unlocks it as it would an operator's, so signatures in the
transcript are the ones ``cove_sdk.testing.MockHost`` produces, run after run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .._manifest import Manifest

MOCK_KEY = "0x" + "c0ffee00" * 8
"""Same as ``cove_sdk.testing.MOCK_KEY`` (a test checks): a test key, never fund it."""
_PASSPHRASE = "cove-mock"


def mock_identity(manifest: Manifest, data_dir: Path) -> dict[str, Any]:
    """The engine config's ``identity`` section for the run: the mock key, if declared."""
    if "identity" not in manifest.capabilities.declared:
        return {}
    from eth_account import Account

    keystore = data_dir / "mock-identity.json"
    keystore.write_text(
        json.dumps(Account.encrypt(bytes.fromhex(MOCK_KEY[2:]), _PASSPHRASE, iterations=2**10))
    )
    passphrase = data_dir / "mock-identity.pass"
    passphrase.write_text(_PASSPHRASE)
    key = {"keystore": str(keystore), "passphrase_file": str(passphrase)}
    return {"modules": {manifest.name: key}}
