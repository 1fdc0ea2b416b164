"""``cove fs ls|cat|watch PATH`` and ``cove fs mount DIR``: the module file view of a
running engine.

PATH is ``<module>/<part>/...`` as ``GET /v1/fs`` takes it (``cove://`` in
front is accepted): names with a ``/`` or ``%`` are written percent-encoded
(the key ``a/b`` is ``state/a%2Fb``); any other character may be typed as
it is and is encoded on the way.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import time
import urllib.parse
from pathlib import Path

import click

from .._control._fs_path import KIND_HEADER
from .._units import parse_duration_ms
from ._client import (
    EXIT_CODES,
    EXIT_REFUSED,
    Client,
    api_command,
    api_command_without_json,
    console,
    fail,
)

_KEEP = "/%:@!$&'()*+,;=~"
"""Left as typed: separators, escapes, and what a URL path carries unescaped."""


def _url(path: str) -> str:
    inner = path.removeprefix("cove://").strip("/")
    return "/v1/fs/" + urllib.parse.quote(inner, safe=_KEEP)


@click.group("fs", epilog=EXIT_CODES)
def fs_group() -> None:
    """Read every module as files: status, config, state/, inbox, outbox, trajectories/,
    identity/, tools, budget (needs the control token or the read-only one); mount
    them as a read-only FUSE file system."""


@fs_group.command("ls", epilog=EXIT_CODES)
@click.argument("path", default="")
@api_command
def ls_command(client: Client, path: str) -> None:
    """The names in directory PATH (directories end in /); no PATH: the modules."""
    response = client.request("GET", _url(path))
    if response.headers.get(KIND_HEADER) != "dir":
        fail(EXIT_REFUSED, f"{path} is a file, not a directory (cove fs cat reads it)")
    body = response.json()

    def human() -> None:
        for entry in body["entries"]:
            suffix = "/" if entry["type"] == "dir" else ""
            console.print(entry["name"] + suffix, highlight=False, markup=False)

    client.show(body, human)


@fs_group.command("cat", epilog=EXIT_CODES)
@click.argument("path")
@api_command
def cat_command(client: Client, path: str) -> None:
    """The contents of file PATH, byte for byte (a state value that is not text too);
    --json prints {"path", "size", "text"} (or "base64" when not UTF-8)."""
    _print(client, path, _file(client, path))


@fs_group.command("watch", epilog=EXIT_CODES)
@click.argument("path")
@click.option("--interval", default="1s", show_default=True, help="How often to read PATH again.")
@click.option(
    "--count", type=click.IntRange(1), default=None, help="Stop after this many versions."
)
@api_command
def watch_command(client: Client, path: str, interval: str, count: int | None) -> None:
    """Print file PATH now and again each time it changes, until Ctrl-C (or --count);
    with --json, one JSON object per version ({"path", "size", "text"|"base64"})."""
    try:
        seconds = parse_duration_ms(interval) / 1000
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--interval") from None
    last = ""
    shown = 0
    try:
        while count is None or shown < count:
            data = _file(client, path)
            digest = hashlib.sha256(data).hexdigest()
            if digest != last:
                last, shown = digest, shown + 1
                click.echo(f"--- {path} at {time.strftime('%H:%M:%S')}", err=True)
                _print(client, path, data, newline=True)
            if count is None or shown < count:
                time.sleep(seconds)
    except KeyboardInterrupt:
        return


@fs_group.command("mount", epilog=EXIT_CODES)
@click.argument("mountpoint", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--ttl", default="1s", show_default=True, help="How long a file read is reused (its staleness)."
)
@api_command_without_json
def mount_command(client: Client, mountpoint: Path, ttl: str) -> None:
    """Mount the view at MOUNTPOINT as a read-only FUSE file system, until Ctrl-C or
    `fusermount3 -u MOUNTPOINT` (needs libfuse: Debian's fuse3)."""
    try:
        seconds = parse_duration_ms(ttl) / 1000
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--ttl") from None
    client.request("GET", "/v1/fs")  # the address and the token, checked before mounting
    try:
        from ._fs_mount import mount
    except OSError as exc:  # mfusepy finds libfuse when imported
        fail(EXIT_REFUSED, f"cannot load libfuse ({exc}); install it (Debian: apt install fuse3)")
    try:
        mount(client.http, str(mountpoint), seconds)
    except RuntimeError as exc:
        fail(EXIT_REFUSED, f"cannot mount at {mountpoint}: {exc}")


def _print(client: Client, path: str, data: bytes, *, newline: bool = False) -> None:
    """The bytes as they are (``newline``: ending in one, so versions stay apart), or JSON."""
    if not client.as_json:
        sys.stdout.buffer.write(data + b"\n" if newline and not data.endswith(b"\n") else data)
        sys.stdout.flush()
        return
    shown: dict[str, object] = {"path": path, "size": len(data)}
    try:
        shown["text"] = data.decode("utf-8")
    except UnicodeDecodeError:
        shown["base64"] = base64.b64encode(data).decode("ascii")
    click.echo(json.dumps(shown, ensure_ascii=False))


def _file(client: Client, path: str) -> bytes:
    response = client.request("GET", _url(path))
    if response.headers.get(KIND_HEADER) == "dir":
        fail(EXIT_REFUSED, f"{path or '/'} is a directory (cove fs ls lists it)")
    return response.content
