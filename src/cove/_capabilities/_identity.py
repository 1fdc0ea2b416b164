"""A module's signing identity: its unlocked key, kept in the host.

The operator assigns each module a keystore (``[identity.modules.<name>]``);
it is decrypted once when the module loads and signs on the module's
behalf. Nothing here returns or logs the key: modules get addresses and
signatures, trajectories get sizes and chain ids.

eth-account is imported on first use (it costs ~1 s): an engine whose
modules have no identity never loads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from .._config import EngineConfig
from .._config_identity import ModuleKey
from .._manifest import Manifest
from ..errors import CapabilityError, HostCallError, KeystoreError, ModuleLoadError
from ._grants import Grants

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from .._nostr._keys import NostrKey


class Identity:
    """One module's account. ``repr`` and ``str`` show the address only."""

    def __init__(self, module: str, account: LocalAccount) -> None:
        self.module = module
        self.address: str = account.address
        self.public_key: str = account._key_obj.public_key.to_hex()
        """Uncompressed secp256k1 public key (0x, 64 bytes): public, like the address."""
        self._account = account
        from .._nostr._keys import npub

        self.npub: str = npub(self.nostr_key().pubkey)
        """The same key as a Nostr identity (NIP-19): public, like the address."""

    def __repr__(self) -> str:
        return f"Identity(module={self.module!r}, address={self.address!r})"

    def nostr_key(self) -> NostrKey:
        """The same secp256k1 key as a Nostr identity (BIP-340 x-only pubkey)."""
        from .._nostr._keys import NostrKey

        return NostrKey(bytes(self._account.key))

    def sign_message(self, message: bytes) -> str:
        """EIP-191 version 0x45 (``personal_sign``)."""
        from eth_account.messages import encode_defunct

        signed = self._account.sign_message(encode_defunct(primitive=message))
        return signed.signature.to_0x_hex()

    def sign_typed_data(self, typed_data_json: str) -> str:
        """EIP-712 over the full message: ``types``, ``primaryType``, ``domain``, ``message``."""
        from eth_account.messages import encode_typed_data

        try:
            data = json.loads(typed_data_json)
        except ValueError as exc:
            raise HostCallError(
                "invalid-input", f"identity: typed data is not JSON: {exc}"
            ) from None
        if not isinstance(data, dict):
            raise HostCallError(
                "invalid-input",
                "identity: typed data must be a JSON object with types, primaryType, "
                "domain and message",
            )
        try:
            signed = self._account.sign_message(encode_typed_data(full_message=data))
        except _input_errors() as exc:
            raise HostCallError(
                "invalid-input", f"identity: typed data does not fit EIP-712: {exc!r}"
            ) from None
        return signed.signature.to_0x_hex()

    def sign_transaction(self, tx: dict[str, object]) -> tuple[str, str]:
        """(raw transaction hex, its hash) for a complete transaction."""
        try:
            signed = self._account.sign_transaction(tx)  # type: ignore[arg-type]
        except _input_errors() as exc:
            raise HostCallError(
                "invalid-input", f"identity: cannot sign transaction: {exc}"
            ) from None
        return signed.raw_transaction.to_0x_hex(), signed.hash.to_0x_hex()


def module_identity(manifest: Manifest, grants: Grants, config: EngineConfig) -> Identity | None:
    """The module's unlocked key; None without the grant, or without a key when optional.

    Checked at load rather than in the grants: ``cove check`` without the
    operator's config must not refuse a module for lacking the operator's key.
    """
    if not grants.allows("identity"):
        return None
    key = config.identity.modules.get(manifest.name)
    if key is not None:
        return unlock_identity(manifest.name, key, config.root)
    if "identity" in manifest.capabilities.required:
        raise CapabilityError(
            manifest.name,
            "requires 'identity' but the engine config assigns it no key (add "
            f"[identity.modules.{manifest.name}] with keystore and passphrase_env or "
            "passphrase_file)",
        )
    return None


def unlock_identity(module: str, key: ModuleKey, root: Path) -> Identity:
    """Decrypt the module's keystore; any failure refuses the module, naming the file."""
    from .._keystore import read_passphrase, unlock_file

    keystore = _resolve(key.keystore, root)
    passphrase_file = None if key.passphrase_file is None else _resolve(key.passphrase_file, root)
    try:
        account = unlock_file(keystore, read_passphrase(key.passphrase_env, passphrase_file))
    except KeystoreError as exc:
        where = "" if str(keystore) in str(exc) else f" (keystore {keystore})"
        raise ModuleLoadError(
            module, f"identity: {exc}{where}; see engine config [identity.modules.{module}]"
        ) from None
    return Identity(module, account)


def _input_errors() -> tuple[type[Exception], ...]:
    """What eth-account raises for a malformed message or transaction: the guest's input."""
    from eth_utils.exceptions import ValidationError

    return (ValueError, TypeError, LookupError, ValidationError)


def _resolve(path: Path, root: Path) -> Path:
    return path if path.is_absolute() else (root / path).resolve()


__all__ = ["Identity", "module_identity", "unlock_identity"]
