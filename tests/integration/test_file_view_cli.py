"""``cove fs ls|cat|watch`` as subprocesses against a running engine's control plane."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from cove._control._fs_path import encode_name
from tests.helpers.control import TOKEN, TOKEN_ENV, Plane, running_plane
from tests.helpers.engine import wait_until
from tests.helpers.file_view import ODD_KEYS, PASS_ENV, PASSPHRASE, files_config, write_event
from tests.helpers.keys import ADDRESS
from tests.integration.test_cli_control import cove

BINARY = b"\xff\x00\n\x01"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(PASS_ENV, PASSPHRASE)
    return files_config(tmp_path)


async def _written(plane: Plane, values: dict[str, object], raw: dict[str, bytes]) -> None:
    await plane.engine.publish([write_event(values, raw)])
    last = list(raw)[-1] if raw else list(values)[-1]
    await wait_until(lambda: plane.engine.store.get("files", last) is not None, what="state")


async def test_ls_lists_modules_parts_and_keys(config: Path) -> None:
    async with running_plane(config) as plane:
        await _written(plane, {"count": 1}, {})
        modules = await cove(plane, "fs", "ls")
        parts = await cove(plane, "fs", "ls", "files")
        keys = await cove(plane, "fs", "ls", "cove://files/state/")
        as_json = await cove(plane, "fs", "ls", "files/identity", "--json")
        on_a_file = await cove(plane, "fs", "ls", "files/status")
    assert (0, ["files/"]) == (modules.code, modules.out.splitlines())
    assert 0 == parts.code, parts.err
    assert [
        "status",
        "config",
        "state/",
        "inbox",
        "outbox",
        "trajectories/",
        "identity/",
        "tools",
        "budget",
    ] == (parts.out.splitlines())
    assert ["count"] == keys.out.splitlines()
    assert ["address", "public_key", "npub"] == [
        e["name"] for e in json.loads(as_json.out)["entries"]
    ]
    assert 1 == on_a_file.code and "is a file" in on_a_file.err


async def test_cat_prints_files_byte_for_byte(config: Path) -> None:
    async with running_plane(config) as plane:
        await _written(plane, {key: key for key in ODD_KEYS}, {"raw": BINARY})
        env = {k: v for k, v in os.environ.items() if not k.startswith("COVE_")}
        env |= {"COVE_URL": str(plane.client.base_url), "COVE_TOKEN": TOKEN}
        raw = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cove", "fs", "cat", "files/state/raw",
            env=env, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        raw_out, _ = await raw.communicate()
        odd = {
            key: await cove(plane, "fs", "cat", "files/state/" + encode_name(key))
            for key in ODD_KEYS
        }
        typed = await cove(plane, "fs", "cat", "files/state/sp ace?#x")  # encoded on the way
        address = await cove(plane, "fs", "cat", "files/identity/address")
        as_json = await cove(plane, "fs", "cat", "files/state/raw", "--json")
        status = await cove(plane, "fs", "cat", "files/status")
        directory = await cove(plane, "fs", "cat", "files/state")
        missing = await cove(plane, "fs", "cat", "nope/status")
        anonymous = await cove(plane, "fs", "cat", "files/status", token=None)
    assert (0, BINARY) == (raw.returncode, raw_out)
    assert {key: json.dumps(key) for key in ODD_KEYS} == {k: r.out for k, r in odd.items()}
    assert json.dumps("sp ace?#x") == typed.out
    assert ADDRESS + "\n" == address.out
    assert {"path": "files/state/raw", "size": 4, "base64": "/wAKAQ=="} == json.loads(as_json.out)
    assert "running" == json.loads(status.out)["state"]
    assert 1 == directory.code and "is a directory" in directory.err
    assert 1 == missing.code and "no module named 'nope'" in missing.err
    assert 4 == anonymous.code


async def test_watch_prints_a_file_again_when_it_changes(config: Path) -> None:
    async with running_plane(config) as plane:
        await _written(plane, {"count": 1}, {})
        env = {k: v for k, v in os.environ.items() if not k.startswith("COVE_")}
        env |= {"COVE_URL": str(plane.client.base_url), "COVE_TOKEN": TOKEN}
        watch = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cove", "fs", "watch", "files/state/count",
            "--interval", "100ms", "--count", "2",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert watch.stdout is not None
        first = await asyncio.wait_for(watch.stdout.readline(), 60)
        await _written(plane, {"count": 2}, {})
        rest, err = await asyncio.wait_for(watch.communicate(), 60)
    assert b"1\n" == first
    assert b"2\n" == rest
    assert 0 == watch.returncode
    assert 2 == err.decode().count("--- files/state/count at ")


@pytest.mark.skipif(
    not Path("/dev/fuse").exists() or shutil.which("fusermount3") is None,
    reason="FUSE is not available here (no /dev/fuse, or no fusermount3: make fuse installs it)",
)
async def test_mount_shows_the_view_as_read_only_files(config: Path, tmp_path: Path) -> None:
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    async with running_plane(config) as plane:
        await _written(plane, {"a/b": "slash"}, {"raw": BINARY})
        env = {k: v for k, v in os.environ.items() if not k.startswith("COVE_")}
        env |= {"COVE_URL": str(plane.client.base_url), "COVE_TOKEN": TOKEN}
        mount = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cove", "fs", "mount", str(mountpoint), "--ttl", "100ms",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            files = mountpoint / "files"
            await wait_until(lambda: mounted(mountpoint), what="the mount", timeout=30)
            # The engine answers the mount on this event loop: file calls go to a thread.
            modules = await asyncio.to_thread(os.listdir, mountpoint)
            parts = await asyncio.to_thread(os.listdir, files)
            keys = sorted(await asyncio.to_thread(os.listdir, files / "state"))
            raw = await asyncio.to_thread((files / "state" / "raw").read_bytes)
            slash = await asyncio.to_thread((files / "state" / "a%2Fb").read_text)
            status = json.loads(await asyncio.to_thread((files / "status").read_text))
            address = await asyncio.to_thread((files / "identity" / "address").read_text)
            with pytest.raises(OSError):
                await asyncio.to_thread((files / "state" / "new").write_text, "x")
            missing = await asyncio.to_thread((files / "nope").exists)
            await _written(plane, {"a/b": "changed"}, {})
            await asyncio.sleep(0.3)  # past the ttl
            changed = await asyncio.to_thread((files / "state" / "a%2Fb").read_text)
        finally:
            unmount = await asyncio.create_subprocess_exec("fusermount3", "-u", str(mountpoint))
            await unmount.wait()
            _, err = await asyncio.wait_for(mount.communicate(), 30)
    assert ["files"] == modules
    assert {
        "status",
        "config",
        "state",
        "inbox",
        "outbox",
        "trajectories",
        "identity",
        "tools",
        "budget",
    } == set(parts)
    assert ["a%2Fb", "raw"] == keys
    assert BINARY == raw
    assert '"slash"' == slash and '"changed"' == changed
    assert "running" == status["state"]
    assert ADDRESS + "\n" == address
    assert not missing
    assert 0 == mount.returncode, err.decode()


def mounted(mountpoint: Path) -> bool:
    return any(
        line.split()[1] == str(mountpoint) for line in Path("/proc/mounts").read_text().splitlines()
    )
