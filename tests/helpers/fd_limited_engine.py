"""An engine process under a low open-file limit, for the fd-exhaustion test.

Run: python -m tests.helpers.fd_limited_engine CONFIG NOFILE
Lowers RLIMIT_NOFILE to NOFILE, starts the engine, prints one JSON line with
the webhook and control-plane URLs, and runs until killed. Logs go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import sys
from pathlib import Path

from cove import load_config
from cove._app import App
from cove._loop import run
from cove._observe._logging import configure_logging
from cove._sources._webhook_server import WebhookServer


async def main(config_path: Path, nofile: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))
    configure_logging("json", logging.INFO, sys.stderr)
    app = App(load_config(config_path))
    await app.start()
    webhook = next(s for s in app.engine.sources if isinstance(s, WebhookServer))
    assert app.control is not None and app.control.api is not None
    urls = {"webhook": await webhook.wait_started(), "control": app.control.api.url}
    print(json.dumps(urls), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    run(main(Path(sys.argv[1]), int(sys.argv[2])))  # the loop `cove run` uses
