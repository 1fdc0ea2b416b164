"""The resource watcher: which changes of watched files it announces, and when it stops."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from mcp.shared.subscriptions import ResourceUpdated, ServerEvent

from cove._control import _mcp_resources
from cove._control._fs_tree import TEXT, Directory, Entry, File, ModuleFiles, Node
from cove._control._mcp_resources import McpResources
from cove.errors import FilePathError


class FakeFiles:
    """A module view of plain dicts: ``m/state`` and its keys."""

    def __init__(self) -> None:
        self.state: dict[str, str] = {"count": "1"}

    def read(self, path: str) -> Node:
        if path == "m/state":
            return Directory(path, [Entry(k, "file") for k in sorted(self.state)])
        key = path.removeprefix("m/state/")
        if key in self.state:
            return File(path, self.state[key].encode(), TEXT)
        raise FilePathError(path, "no such file")


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_mcp_resources, "POLL_S", 0.01)


async def polls(n: int = 5) -> None:
    await asyncio.sleep(0.01 * n + 0.05)


async def test_changes_of_watched_files_and_listings_are_announced_once_each() -> None:
    files = FakeFiles()
    events: list[ServerEvent] = []

    async def publish(event: ServerEvent) -> None:
        events.append(event)

    resources = McpResources(cast(ModuleFiles, files), publish)
    release = await resources.listen(["cove://m/state/count", "cove://m/state"])
    await polls()
    assert [] == events  # nothing changed yet
    files.state["count"] = "2"
    await polls()
    assert [ResourceUpdated("cove://m/state/count")] == events
    files.state["new"] = "x"
    await polls()
    assert ResourceUpdated("cove://m/state") == events[-1] and 2 == len(events)
    del files.state["count"]  # a deleted key is a change too
    await polls()
    assert 4 == len(events)
    assert {ResourceUpdated("cove://m/state/count"), ResourceUpdated("cove://m/state")} == set(
        events[2:]
    )
    release()
    await polls()
    assert resources._poller is None  # nothing watched: the watcher stopped
    assert {} == resources._digests
    files.state["count"] = "3"
    await polls()
    assert 4 == len(events)
    await resources.aclose()


async def test_a_watch_started_again_takes_a_new_baseline() -> None:
    files = FakeFiles()
    events: list[Any] = []

    async def publish(event: ServerEvent) -> None:
        events.append(event)

    resources = McpResources(cast(ModuleFiles, files), publish)
    release = await resources.listen(["cove://m/state/count"])
    release()
    await polls()
    files.state["count"] = "changed while nobody watched"
    release = await resources.listen(["cove://m/state/count"])
    await polls()
    assert [] == events
    release()
    await resources.aclose()
