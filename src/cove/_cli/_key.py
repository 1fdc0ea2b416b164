"""``cove key new|list|import|show``: the operator's encrypted signing keys (v3 keystore files).

Each key is also a Nostr identity: its npub is shown beside the address. The
nsec is printed only by ``show --export-nsec``, with a warning on stderr.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import KeystoreError

_DIR = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".cove/keys"),
    show_default=True,
    help="The keystore directory.",
)
_ENV = click.option(
    "--passphrase-env", metavar="VAR", help="Environment variable that holds the passphrase."
)
_FILE = click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="File that holds the passphrase.",
)


def _errors(command: Callable[..., None]) -> Callable[..., None]:
    """A keystore problem is a one-line error and exit code 1, not a traceback."""

    @functools.wraps(command)
    def run(**kwargs: Any) -> None:
        try:
            command(**kwargs)
        except KeystoreError as exc:
            raise click.ClickException(str(exc)) from None

    return run


@click.group("key")
def key_group() -> None:
    """Manage signing keys (encrypted Ethereum v3 keystore files; each is also a Nostr npub)."""


@key_group.command("new")
@click.argument("name")
@_DIR
@_ENV
@_FILE
@_errors
def new_command(
    name: str, directory: Path, passphrase_env: str | None, passphrase_file: Path | None
) -> None:
    """Create a random key NAME, encrypted with the passphrase; prints its address and npub."""
    from .._keystore import new_key, read_passphrase  # eth-account costs ~1 s to import

    info = new_key(directory, name, read_passphrase(passphrase_env, passphrase_file))
    click.echo(f"{info.name}  {info.address}  {info.npub}  {info.path}")


@key_group.command("import")
@click.argument("name")
@_DIR
@_ENV
@_FILE
@click.option(
    "--private-key-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="File with the hex private key; without it the key is read from stdin.",
)
@_errors
def import_command(
    name: str,
    directory: Path,
    passphrase_env: str | None,
    passphrase_file: Path | None,
    private_key_file: Path | None,
) -> None:
    """Encrypt an existing private key as NAME (never pass a key as an argument)."""
    from .._keystore import import_key, read_passphrase  # eth-account costs ~1 s to import

    passphrase = read_passphrase(passphrase_env, passphrase_file)
    if private_key_file is not None:
        secret = private_key_file.read_text()
    else:
        secret = sys.stdin.read()
    info = import_key(directory, name, secret, passphrase)
    click.echo(f"{info.name}  {info.address}  {info.npub}  {info.path}")


@key_group.command("list")
@_DIR
@_errors
def list_command(directory: Path) -> None:
    """The keys in the keystore directory: name, address and npub (no passphrase needed).

    A keystore not written by cove does not record its npub: `-` (see `cove key show`)."""
    from .._keystore import list_keys  # eth-account costs ~1 s to import

    for info in list_keys(directory):
        click.echo(f"{info.name}  {info.address}  {info.npub}")


@key_group.command("show")
@click.argument("name")
@_DIR
@_ENV
@_FILE
@click.option(
    "--export-nsec",
    is_flag=True,
    help="Also print the Nostr secret key (nsec): anyone who has it can sign and read as NAME.",
)
@_errors
def show_command(
    name: str,
    directory: Path,
    passphrase_env: str | None,
    passphrase_file: Path | None,
    export_nsec: bool,
) -> None:
    """Unlock NAME and print its address, Nostr npub and hex pubkey (and nsec if asked)."""
    from .._keystore import read_passphrase, unlock
    from .._nostr._keys import NostrKey, npub, nsec

    account = unlock(directory, name, read_passphrase(passphrase_env, passphrase_file))
    nostr = NostrKey(bytes(account.key))
    click.echo(f"address  {account.address}")
    click.echo(f"npub     {npub(nostr.pubkey)}")
    click.echo(f"pubkey   {nostr.pubkey.hex()}")
    if export_nsec:
        click.echo(
            f"warning: the next line is the secret key of {name!r}; whoever reads it can sign "
            "as this module and read its DMs. Do not paste it anywhere you would not paste "
            "the keystore's passphrase.",
            err=True,
        )
        click.echo(nsec(nostr.secret))
