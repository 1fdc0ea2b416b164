"""Signing keys in encrypted Ethereum v3 keystore files (one ``<name>.json`` per key).

Why v3 and not EIP-2335: module identities are secp256k1 accounts that sign
EIP-191/EIP-712 messages and transactions; v3 is the format geth, Foundry
(``cast wallet``) and eth-account read and write for exactly those keys,
while EIP-2335 is the consensus layer's format for BLS validator keys.
eth-account does the scrypt/AES work. The passphrase comes from an
environment variable or a file chosen by the operator, never from a
manifest or a command-line argument (both end up in logs and shell history).

The same key is the module's Nostr identity (BIP-340 x-only pubkey). Files
cove writes carry its ``npub`` beside the address (public, like the
address), so ``cove key list`` shows it without a passphrase; keystores
from elsewhere lack it until ``cove key show`` unlocks them.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from .errors import KeystoreError

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


@dataclass(frozen=True, slots=True)
class KeyInfo:
    name: str
    address: str
    path: Path
    npub: str = "-"
    """The Nostr public key (NIP-19), when the file records it."""


def read_passphrase(env: str | None, file: Path | None) -> str:
    """The passphrase from exactly one of an environment variable or a file."""
    if (env is None) == (file is None):
        raise KeystoreError(
            "give the passphrase by exactly one of --passphrase-env or --passphrase-file"
        )
    if env is not None:
        value = os.environ.get(env)
        if value is None:
            raise KeystoreError(f"environment variable {env} (the key passphrase) is not set")
    else:
        assert file is not None
        try:
            value = file.read_text().rstrip("\r\n")
        except OSError as exc:
            raise KeystoreError(f"cannot read the passphrase file {file}: {exc.strerror}") from None
    if not value:
        raise KeystoreError("the key passphrase is empty; an empty passphrase encrypts nothing")
    return value


def new_key(directory: Path, name: str, passphrase: str) -> KeyInfo:
    """Create a random key and store it encrypted as ``<directory>/<name>.json``."""
    account: LocalAccount = Account.create()
    return _store(directory, name, account.key, passphrase)


def import_key(directory: Path, name: str, private_key: str, passphrase: str) -> KeyInfo:
    """Store an existing private key (hex, with or without 0x) encrypted."""
    try:
        key = bytes.fromhex(private_key.strip().removeprefix("0x"))
        Account.from_key(key)
    except ValueError as exc:
        raise KeystoreError(f"not a secp256k1 private key (64 hex digits): {exc}") from None
    return _store(directory, name, key, passphrase)


def list_keys(directory: Path) -> list[KeyInfo]:
    """Every key in ``directory``, by name; addresses come from the files, no passphrase."""
    if not directory.is_dir():
        return []
    return [_info(path) for path in sorted(directory.glob("*.json"))]


def unlock(directory: Path, name: str, passphrase: str) -> LocalAccount:
    """The account of key ``name``; a wrong passphrase is a ``KeystoreError``."""
    path = _path(directory, name)
    if not path.is_file():
        raise KeystoreError(
            f"no key {name!r} in {directory} (create one with `cove key new {name}`)"
        )
    return unlock_file(path, passphrase)


def unlock_file(path: Path, passphrase: str) -> LocalAccount:
    """The account in keystore file ``path``; a wrong passphrase is a ``KeystoreError``."""
    if not path.is_file():
        raise KeystoreError(f"keystore file {path} does not exist")
    try:
        key = Account.decrypt(_read(path), passphrase)
    except ValueError:
        raise KeystoreError(f"cannot unlock {path}: wrong passphrase") from None
    account: LocalAccount = Account.from_key(key)
    return account


def _store(directory: Path, name: str, key: bytes, passphrase: str) -> KeyInfo:
    path = _path(directory, name)
    if path.exists():
        raise KeystoreError(f"key {name!r} already exists ({path}); pick another name")
    from ._nostr._keys import NostrKey, npub

    keyfile = Account.encrypt(key, passphrase)
    keyfile["npub"] = npub(NostrKey(key).pubkey)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Created 0600 from the start: the file never exists readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(keyfile, out)
    return _info(path)


def _path(directory: Path, name: str) -> Path:
    if not _NAME.match(name):
        raise KeystoreError(
            f"key name {name!r}: use lower-case letters, digits, '-' and '_', starting with a letter"
        )
    return directory / f"{name}.json"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise KeystoreError(f"{path} is not a readable keystore file: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != 3 or "address" not in data:
        raise KeystoreError(f"{path} is not an Ethereum v3 keystore file")
    return data


def _info(path: Path) -> KeyInfo:
    data = _read(path)
    raw = str(data["address"]).lower().removeprefix("0x")
    npub = data.get("npub")
    return KeyInfo(
        path.stem,
        to_checksum_address("0x" + raw),
        path,
        npub if isinstance(npub, str) and npub.startswith("npub1") else "-",
    )
