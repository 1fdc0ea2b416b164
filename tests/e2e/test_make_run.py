"""`make run`'s engine: control plane on, token file made on the first run, console URL printed.

The shipped examples/engine.toml runs as `cove run --demo` in a subprocess
(only its data dir, port and compile cache changed); the CLI then talks to it
with no token option, and Chromium opens the printed URL.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.helpers.modules import CACHE, EXAMPLES, REPO, example_module, toml_value

CONSOLE_LINE = re.compile(r"console (http://127\.0\.0\.1:(\d+)/)#token=(\S+)")


@pytest.fixture
def demo_engine(tmp_path: Path) -> Iterator[tuple[str, str, Path, dict[str, str]]]:
    """The demo engine running: (console URL, token, token file, env for CLI calls)."""
    example_module("counter", tmp_path / "counter")
    shutil.copytree(EXAMPLES / "auto_reply", tmp_path / "auto_reply")
    text = (EXAMPLES / "engine.toml").read_text()
    for old, new in {
        'data_dir = "../.cove/demo"': f"data_dir = {toml_value(str(tmp_path / 'data'))}",
        "port = 8788": "port = 0",
        'token_file = "../.cove/demo/control.token"': 'token_file = "data/control.token"',
    }.items():
        assert old in text
        text = text.replace(old, new)
    text += f"\n[wasm]\ncache_dir = {toml_value(str(CACHE / 'compiled'))}\n"
    config = tmp_path / "engine.toml"
    config.write_text(text)
    env = {**os.environ, "COLUMNS": "60"}  # a narrow terminal must not wrap the URL
    proc = subprocess.Popen(
        [sys.executable, "-m", "cove", "run", "--config", str(config), "--demo", "--no-trace"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    try:
        seen = []
        for line in proc.stdout:
            seen.append(line)
            match = CONSOLE_LINE.search(line)
            if match:
                break
        assert match is not None, "".join(seen)
        yield match.group(1), match.group(3), tmp_path / "data" / "control.token", env
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def _cove(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cove", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_the_demo_engine_makes_its_token_file_once_with_mode_0600(
    demo_engine: tuple[str, str, Path, dict[str, str]],
) -> None:
    _url, token, token_file, _env = demo_engine
    assert token == token_file.read_text().strip()
    assert 0o600 == stat.S_IMODE(token_file.stat().st_mode)


def test_cove_health_and_module_list_find_the_token_without_options(
    demo_engine: tuple[str, str, Path, dict[str, str]],
) -> None:
    url, _token, _file, env = demo_engine
    env = {k: v for k, v in env.items() if k not in ("COVE_TOKEN", "COVE_TOKEN_FILE")}
    health = _cove(env, "health", "--url", url, "--json")
    assert 0 == health.returncode, health.stderr
    modules = _cove(env, "module", "list", "--url", url, "--json")
    assert 0 == modules.returncode, modules.stderr
    assert ["auto-reply", "counter"] == sorted(
        m["name"] for m in json.loads(modules.stdout)["modules"]
    )


async def test_the_console_url_logs_in_and_the_token_leaves_the_address_bar(
    demo_engine: tuple[str, str, Path, dict[str, str]], browser: Browser
) -> None:
    url, token, _file, _env = demo_engine
    page = await browser.new_page()
    await page.goto(f"{url}#token={token}")
    await expect(page.locator('[data-module="counter"]').first).to_be_visible()
    assert token not in page.url
    assert token == await page.evaluate("sessionStorage.getItem('cove-token')")
