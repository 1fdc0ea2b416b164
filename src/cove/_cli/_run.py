"""``cove run``: start an engine from a config file."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from urllib.parse import quote

import click
from rich.console import Console
from rich.text import Text

from .._app import App
from .._config import load_config
from .._engine._lifecycle import wait_event
from .._engine._trajectory import Trajectory
from .._gc import freeze_startup_objects
from .._loop import run
from .._observe._logging import configure_logging
from .._sources._base import Source
from .._sources._console import ConsoleTransport
from .._sources._demo import DemoSource
from ..errors import CoveError
from ._mock import run_mock
from ._trace import trajectory_line

console = Console()


def _print_trajectory(t: Trajectory) -> None:
    calls = ", ".join(f"{c.interface}.{c.function}" + (" !" if c.error else "") for c in t.calls)
    verb = "skipped" if t.outcome == "skipped" else "handled"
    cost = f"{t.wall_ns / 1e6:.2f} ms, fuel {t.fuel:,}"
    line = trajectory_line("", t.outcome, t.module, f"{verb} {t.event_id}", cost, calls, t.error)
    console.print(line, highlight=False)


@click.command("run")
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
    default=Path("cove-engine.toml"), show_default=True, help="Engine config file (TOML).",
)  # fmt: skip
@click.option("--demo", is_flag=True, help="Feed the modules from the built-in demo source.")
@click.option("--for", "duration", type=float, default=None, help="Stop after this many seconds.")
@click.option("--trace/--no-trace", default=True, help="Print one line per handled event.")
@click.option(
    "--mock", "fixture", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None, help="Run one module (--module) on this fixture file; print a transcript.",
)  # fmt: skip
@click.option(
    "--module", "module_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("."), show_default=True, help="The module --mock runs.",
)  # fmt: skip
@click.option("--watch", is_flag=True, help="With --mock: rebuild and rerun on every change.")
def run_command(
    config_path: Path,
    demo: bool,
    duration: float | None,
    trace: bool,
    fixture: Path | None,
    module_dir: Path,
    watch: bool,
) -> None:
    """Run the engine until Ctrl-C (or SIGTERM), then shut down gracefully.

    With --mock, run one module on a local engine fed from a fixture instead:
    its [[events]] on a fake clock, canned [[http]] responses and canned
    [[chain]] JSON-RPC answers (docs/howto/fixtures.md).
    """
    if fixture is not None:
        run_mock(module_dir, fixture, watch)
        return
    if watch:
        raise click.UsageError("--watch works with --mock")
    try:
        config = load_config(config_path)
    except CoveError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging(config.log_format)
    sources: list[Source] = [DemoSource()] if demo else []
    try:  # the config's [[transports]] and [webhook] read their secrets here
        app = App(
            config,
            transports=[ConsoleTransport("console", console)],
            sources=sources,
            progress=lambda msg: console.print(f"[yellow]…[/] {msg}"),
            on_trajectory=_print_trajectory if trace else None,
        )
    except CoveError as exc:
        raise click.ClickException(str(exc)) from None
    run_engine(app, duration)


def run_engine(app: App, duration: float | None) -> None:
    """Serve ``app`` on uvloop where it is installed (``cove._loop``)."""
    run(_serve(app, duration))


def console_url(app: App) -> str | None:
    """The console's address; with a token the engine created, the token in the fragment.

    A fragment never leaves the browser (no request line, no Referer), and the
    page moves it to session storage and drops it from the address bar.
    """
    control, settings = app.control, app.engine.config.control
    if control is None or control.api is None or settings is None:
        return None
    url = control.api.url + "/"
    if settings.create_token and control.tokens.admin is not None:
        url += "#token=" + quote(control.tokens.admin, safe="")
    return url


async def _serve(app: App, duration: float | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Loops without Unix signal support (Windows) raise NotImplementedError;
        # there Ctrl-C still ends the run through KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await app.start()
    freeze_startup_objects()
    engine = app.engine
    for path, error in engine.load_errors.items():
        console.print(Text.assemble(("refused", "red"), f" {path}: {error}"), highlight=False)
    url = console_url(app)
    if url is not None:
        console.print(
            Text.assemble(("console", "bold"), f" {url}"), highlight=False, soft_wrap=True
        )
    await wait_event(stop, duration)
    console.print("[yellow]…[/] shutting down")
    await app.stop()
    for status in engine.final_status:
        console.print(
            f"  {status.name}: {status.state}, handled {status.handled}, failed {status.failed}"
        )
