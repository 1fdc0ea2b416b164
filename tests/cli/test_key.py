"""``cove key``: encrypted v3 keystore files that eth-account (and geth, Foundry) can read."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from eth_account import Account

from cove._cli._main import cli
from cove._keystore import unlock
from cove._nostr._keys import NostrKey, npub, nsec
from cove.errors import KeystoreError

# anvil's first dev account: a well-known test key, never a real one
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
DEV_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ENV = {"COVE_KEY_PASS": "correct horse"}


def key(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["key", *args], input=stdin, env=ENV)


def test_import_encrypts_a_key_that_unlocks_to_the_same_address(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    result = key("import", "ops", "--dir", str(keys), "--passphrase-env", "COVE_KEY_PASS",
                 stdin=DEV_KEY + "\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.split()[:2] == ["ops", DEV_ADDRESS]
    path = keys / "ops.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["version"] == 3 and DEV_KEY[2:] not in path.read_text()
    assert Account.decrypt(stored, "correct horse").hex() == DEV_KEY[2:]
    assert unlock(keys, "ops", "correct horse").address == DEV_ADDRESS
    with pytest.raises(KeystoreError, match="wrong passphrase"):
        unlock(keys, "ops", "wrong")


def test_new_keys_are_listed_without_a_passphrase(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    secret = tmp_path / "pass"
    secret.write_text("from a file\n")
    made = [key("new", n, "--dir", str(keys), "--passphrase-file", str(secret)) for n in "ab"]
    assert all(r.exit_code == 0 for r in made), [r.output for r in made]
    listed = key("list", "--dir", str(keys))
    assert [line.split() for line in listed.output.splitlines()] == [
        r.output.split()[:3] for r in made
    ]
    assert unlock(keys, "a", "from a file").address == made[0].output.split()[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new", "x"], "exactly one of --passphrase-env or --passphrase-file"),
        (["new", "x", "--passphrase-env", "NOT_SET_ANYWHERE"], "NOT_SET_ANYWHERE"),
        (["new", "Bad Name", "--passphrase-env", "COVE_KEY_PASS"], "key name 'Bad Name'"),
        (["import", "x", "--passphrase-env", "COVE_KEY_PASS"], "not a secp256k1 private key"),
    ],
)
def test_mistakes_are_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = key(*args, "--dir", str(tmp_path), stdin="nonsense")
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_an_existing_key_is_never_overwritten(tmp_path: Path) -> None:
    args = ["new", "ops", "--dir", str(tmp_path), "--passphrase-env", "COVE_KEY_PASS"]
    first = key(*args)
    second = key(*args)
    assert first.exit_code == 0 and second.exit_code == 1
    assert "already exists" in second.output
    assert unlock(tmp_path, "ops", "correct horse").address == first.output.split()[1]


# The NIP-19 encodings of DEV_KEY's BIP-340 x-only public key and of the key itself.
DEV_NPUB = npub(NostrKey(bytes.fromhex(DEV_KEY[2:])).pubkey)
DEV_NSEC = nsec(bytes.fromhex(DEV_KEY[2:]))


def test_new_import_and_list_show_the_npub(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    imported = key("import", "ops", "--dir", str(keys), "--passphrase-env", "COVE_KEY_PASS",
                   stdin=DEV_KEY + "\n")  # fmt: skip
    assert imported.output.split()[:3] == ["ops", DEV_ADDRESS, DEV_NPUB]
    made = key("new", "fresh", "--dir", str(keys), "--passphrase-env", "COVE_KEY_PASS")
    fresh_npub = made.output.split()[2]
    assert fresh_npub.startswith("npub1")
    listed = [line.split() for line in key("list", "--dir", str(keys)).output.splitlines()]
    assert [row[2] for row in listed] == [fresh_npub, DEV_NPUB]
    assert DEV_NSEC not in imported.output + made.output


def test_show_prints_the_npub_and_exports_the_nsec_only_when_asked(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    key("import", "ops", "--dir", str(keys), "--passphrase-env", "COVE_KEY_PASS",
        stdin=DEV_KEY + "\n")  # fmt: skip
    (keys / "ops.json").write_text(  # a keystore from geth: no npub stored in it
        json.dumps({k: v for k, v in json.loads((keys / "ops.json").read_text()).items()
                    if k != "npub"})
    )  # fmt: skip
    assert key("list", "--dir", str(keys)).output.split() == ["ops", DEV_ADDRESS, "-"]
    shown = key("show", "ops", "--dir", str(keys), "--passphrase-env", "COVE_KEY_PASS")
    assert shown.exit_code == 0, shown.output
    assert DEV_NPUB in shown.output and DEV_NSEC not in shown.output
    runner = CliRunner()
    exported = runner.invoke(
        cli,
        ["key", "show", "ops", "--dir", str(keys), "--passphrase-env", "COVE_KEY_PASS",
         "--export-nsec"],
        env=ENV,
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert exported.stdout.strip().splitlines()[-1] == DEV_NSEC
    assert "secret key" in exported.stderr
