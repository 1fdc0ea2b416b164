"""`cove run --mock` signs with MockHost's test key, through the engine's real identity path."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from click.testing import CliRunner
from cove_sdk.testing import MOCK_KEY as SDK_MOCK_KEY
from eth_account import Account
from eth_account.messages import encode_defunct

from cove._cli._main import cli
from cove._mock._identity import MOCK_KEY

MANIFEST = """
[module]
name = "attester"
kind = "python"
entry = "attester:Attester"

[capabilities]
required = ["store", "identity"]

[[subscription]]
kind = "custom"
name = "attest.*"
"""

PLUGIN = """
from cove import Plugin
from cove.plugin import SetState


class Attester(Plugin):
    def handle_event(self, event, ctx):
        return [SetState("signature", ctx.identity.sign_message(event.payload.name))]
"""


def test_the_mock_key_is_the_sdks() -> None:
    assert MOCK_KEY == SDK_MOCK_KEY


def test_a_module_with_identity_signs_with_the_mock_key(tmp_path: Path) -> None:
    module = tmp_path / "attester"
    module.mkdir()
    (module / "cove.toml").write_text(textwrap.dedent(MANIFEST))
    (module / "attester.py").write_text(textwrap.dedent(PLUGIN))
    fixture = tmp_path / "fixture.toml"
    fixture.write_text('[[events]]\nkind = "custom"\nname = "attest.now"\n')
    result = CliRunner().invoke(cli, ["run", "--mock", str(fixture), "--module", str(module)])
    assert result.exit_code == 0, result.output
    match = re.search(r'state  signature: \(unset\) → "(0x[0-9a-f]{130})"', result.output)
    assert match is not None, result.output
    signed = encode_defunct(text="attest.now")
    assert Account.recover_message(signed, signature=match[1]) == Account.from_key(MOCK_KEY).address
