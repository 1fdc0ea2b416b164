"""Wasm hooks: a componentize-py guest exporting hook-handler, in one chain with a native hook."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cove import Custom, Event
from cove._build._python_guest import build_python
from cove._manifest import load_manifest
from cove.testing import MemoryTransport
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import ASSETS, CACHE, write_manifest
from tests.integration.test_hooks import config, hook_module, seen, send, sender

HOOK = '\n[[hook]]\npoint = "before-message"\npriority = 2\n'


@pytest.fixture(scope="module")
def hook_wasm() -> Path:
    """tests/assets/hook_probe built with the hook-module world (its manifest has [[hook]])."""
    work = CACHE / "guests" / f"hook_probe-{os.getpid()}"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(ASSETS / "hook_probe", work, ignore=shutil.ignore_patterns("__pycache__"))
    write_manifest(work, "hook_probe", optional=["hooks", "store"])
    text = (work / "cove.toml").read_text()
    text = text.replace('kind = "wasm"', 'kind = "wasm"\ncomponent = "hook_probe.wasm"')
    (work / "cove.toml").write_text(text + HOOK)
    return build_python(load_manifest(work), CACHE / "builds").path


def wasm_hook(tmp: Path, wasm: Path, resources: dict[str, str] | None = None) -> Path:
    directory = write_manifest(
        tmp / "hook_probe",
        "hook_probe",
        component=wasm,
        required=["hooks", "store"],
        resources=resources,
        subscriptions=[{"kind": "custom", "name": "tag"}],
    )
    with (directory / "cove.toml").open("a") as f:
        f.write(HOOK)
    return directory


async def test_a_wasm_hook_runs_in_order_with_native_hooks_and_reads_its_state(
    tmp_path: Path, hook_wasm: Path
) -> None:
    chat = MemoryTransport("chat")
    native = hook_module(
        tmp_path,
        "native",
        [{"point": "before-message", "priority": 1}],
        {"before-message": "append: n"},
    )
    modules = [wasm_hook(tmp_path, hook_wasm), native, sender(tmp_path)]
    async with running_engine(config(tmp_path, modules), transports=[chat]) as engine:
        await engine.publish([send("one")])
        await wait_until(lambda: len(chat.sent) == 1)
        await engine.publish([Event(Custom("tag", "", "tagged"))])
        await wait_until(lambda: state_json(engine, "hook_probe", "tag") is not None)
        await engine.publish([send("two")])
        await wait_until(lambda: len(chat.sent) == 2)
    assert [m.body for m in chat.sent] == ["one n [wasm]", "two n [tagged]"]
    assert [r["payload"]["body"] for r in seen(native, "before-message")] == ["one", "two"]


async def test_a_wasm_hook_vetoes_a_message(tmp_path: Path, hook_wasm: Path) -> None:
    chat = MemoryTransport("chat")
    modules = [wasm_hook(tmp_path, hook_wasm), sender(tmp_path)]
    async with running_engine(config(tmp_path, modules), transports=[chat]) as engine:
        await engine.publish([send("please veto-me"), send("fine")])
        await wait_until(lambda: len(chat.sent) == 1)
        await wait_until(lambda: engine.outbox.vetoed == 1)
    assert [m.body for m in chat.sent] == ["fine [wasm]"]


@pytest.mark.parametrize("word", ["fail-me", "write-me", "loop-me"])
async def test_a_broken_wasm_hook_under_each_policy(
    tmp_path: Path, hook_wasm: Path, word: str
) -> None:
    """fail-open: sent as it was; fail-closed: held. A hook that writes state fails.

    A looping guest is stopped by its own deadline (shorter here than the
    hook timeout), and the next call gets a fresh instance.
    """
    chat = MemoryTransport("chat")
    module = wasm_hook(tmp_path, hook_wasm, {"timeout": "150ms"})
    hooks = '\n[hooks]\ntimeout = "5s"\n[hooks.policy]\nbefore_message = "fail-open"\n'
    async with running_engine(
        config(tmp_path, [module, sender(tmp_path)], hooks), transports=[chat]
    ) as engine:
        await engine.publish([send(word), send("after")])
        await wait_until(lambda: len(chat.sent) == 2)
        assert engine.hooks.failed["before-message"] == 1
    assert [m.body for m in chat.sent] == [word, "after [wasm]"]

    chat = MemoryTransport("chat")
    (tmp_path / "closed").mkdir()
    async with running_engine(
        config(tmp_path / "closed", [module, sender(tmp_path)]), transports=[chat]
    ) as engine:
        await engine.publish([send(word), send("after")])
        await wait_until(lambda: len(chat.sent) == 1, what="the message after the broken one")
        await wait_until(lambda: engine.hooks.failed["before-message"] >= 2, what="a retry")
        assert [m.body for m in chat.sent] == ["after [wasm]"]


async def test_a_wasm_module_with_hooks_must_export_the_hook_handler(
    tmp_path: Path, probe_wasm: Path
) -> None:
    module = write_manifest(tmp_path / "probe", "probe", component=probe_wasm, required=["hooks"])
    with (module / "cove.toml").open("a") as f:
        f.write(HOOK)
    async with running_engine(config(tmp_path, [module])) as engine:
        (error,) = engine.load_errors.values()
    assert "has [[hook]] entries but it does not export cove:host/hook-handler" in error
