"""`cove run` as a subprocess for the security tests, and ops posted to its control plane."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.helpers.control import AUTH, TOKEN, TOKEN_ENV
from tests.helpers.modules import REPO


@contextmanager
def cove_run(config: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`cove run` on ``config`` and its control plane's URL; killed if a test leaves it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cove", "run", "--config", str(config)],
        cwd=REPO,
        env={**os.environ, TOKEN_ENV: TOKEN},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    try:
        url = ""
        for line in proc.stdout:
            found = re.search(r"control plane listening\s+url=(\S+)", line)
            if found:
                url = found.group(1)
                break
        assert url, "the control plane did not start"
        yield proc, url
    finally:
        if proc.poll() is None:  # never leak an engine process past the test
            proc.kill()
            proc.communicate()


def post_ops(url: str, module: str, ops: list[dict[str, object]]) -> None:
    for op in ops:
        body = {"name": f"{module}.op", "payload": json.dumps(op)}
        assert 200 <= httpx.post(f"{url}/v1/events", json=body, headers=AUTH).status_code < 300
