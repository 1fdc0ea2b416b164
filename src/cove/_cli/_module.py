"""``cove module list|load|unload|restart|reload|revive|drain``: manage the modules of a running
engine; ``push|pull`` (``_push_pull.py``) move a module to and from an OCI registry."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from .._units import parse_duration_ms
from ._client import EXIT_CODES, Client, api_command, console
from ._push_pull import pull_command, push_command

_STATE_STYLE = {
    "running": "green",
    "dead": "red",
    "backoff": "yellow",
    "draining": "cyan",
    "hibernating": "blue",
}


def _state(state: str) -> Text:
    return Text(state, style=_STATE_STYLE.get(state, ""))


def _mebibytes(size: int) -> str:
    """A wasm module's memory high-water; native plugins have none to show."""
    return f"{size / (1 << 20):.1f} MiB" if size else "-"


def print_modules(modules: list[dict[str, Any]], refused: dict[str, str]) -> None:
    table = Table("module", "version", "state", "handled", "failed", "restarts", "queue",
                  "outbox", "fuel", "state bytes", "memory", "sha256", box=None, header_style="bold")  # fmt: skip
    cluster = any(m.get("engine") for m in modules)  # [cluster]: where each module runs
    if cluster:
        table.add_column("engine")
    for m in modules:
        # Cells are Text: a manifest's name or version is the module's, never markup.
        table.add_row(
            Text(m["name"]), Text(m["version"]), _state(m["state"]), str(m["handled"]), str(m["failed"]),
            str(m["restarts"]), _queue(m), _outbox(m), f"{m['fuel']:,}", f"{m['state_bytes']:,}",
            _mebibytes(m["memory_high_water_bytes"]), Text((m["sha256"] or "-").removeprefix("sha256:")[:12]),
            *([Text(m.get("engine") or "-")] if cluster else []),
        )  # fmt: skip
    console.print(table if modules else "[dim]no modules loaded[/]")
    if any(m.get("queue_depth_stale") for m in modules):
        console.print(
            "[yellow]queue?[/] the last known depth: the journal's server is away (stale)"
        )
    for m in modules:
        if m["last_error"]:
            on = f" (on event {m['failed_event_id']})" if m["failed_event_id"] else ""
            line = Text.assemble((m["name"], "red"), f"{on}: {m['last_error']}")
            console.print(line, highlight=False)  # a module's error is text, never markup
    for m in modules:
        if m["outbox_last_error"]:
            retry = m["outbox_next_retry_ms"]
            when = f", next retry in {max(0.0, retry / 1000 - time.time()):.0f}s" if retry else ""
            line = Text.assemble(
                (m["name"], "yellow"),
                f" outbox ({m['outbox_attempts']} attempts{when}): {m['outbox_last_error']}",
            )
            console.print(line, highlight=False)
    for path, error in refused.items():
        console.print(Text.assemble(("refused", "red"), f" {path}: {error}"), highlight=False)


def _queue(module: dict[str, Any]) -> Text:
    """The queue depth; with a ``?`` when it is the last known one (the journal's server away)."""
    depth = str(module["queue_depth"])
    return Text.assemble(depth, ("?", "yellow")) if module.get("queue_depth_stale") else Text(depth)


def _outbox(module: dict[str, Any]) -> Text:
    """Undelivered effects, and dead letters when there are any (cove outbox list)."""
    dead = module["dead_letters"]
    backlog = str(module["outbox_backlog"])
    return Text.assemble(backlog, (f" +{dead} dead", "red")) if dead else Text(backlog)


def _print_one(verb: str, module: dict[str, Any]) -> None:
    line = Text.assemble(
        f"{verb} ", (module["name"], "bold"), f" {module['version']}: ", _state(module["state"])
    )
    console.print(line, highlight=False)


@click.group("module", epilog=EXIT_CODES)
def module_group() -> None:
    """List, load, unload, restart, reload, revive and drain the modules of a running engine;
    push and pull a module to and from an OCI registry."""


module_group.add_command(push_command)
module_group.add_command(pull_command)


@module_group.command("list", epilog=EXIT_CODES)
@api_command
def list_command(client: Client) -> None:
    """Modules with state, version, hash and counters (and refused ones)."""
    body = client.call("GET", "/v1/modules")
    client.show(body, lambda: print_modules(body["modules"], body["refused"]))


@module_group.command("load", epilog=EXIT_CODES)
@click.argument("path", type=click.Path(path_type=Path))
@api_command
def load_command(client: Client, path: Path) -> None:
    """Load the module in directory PATH (as the engine sees it) into the running engine."""
    target = str(path.resolve()) if path.exists() else str(path)
    body = client.call("POST", "/v1/modules", json={"path": target})
    client.show(body, lambda: _print_one("loaded", body))


@module_group.command("unload", epilog=EXIT_CODES)
@click.argument("name")
@api_command
def unload_command(client: Client, name: str) -> None:
    """Stop module NAME and remove it from the engine (its state and cursor are kept)."""
    body = client.call("DELETE", f"/v1/modules/{name}")
    client.show(body, lambda: console.print(Text.assemble("unloaded ", (name, "bold"))))


@module_group.command("restart", epilog=EXIT_CODES)
@click.argument("name")
@api_command
def restart_command(client: Client, name: str) -> None:
    """Unload module NAME and load it again from its directory (picks up a new build)."""
    body = client.call("POST", f"/v1/modules/{name}/restart")
    client.show(body, lambda: _print_one("restarted", body))


@module_group.command("reload", epilog=EXIT_CODES)
@click.argument("name")
@api_command
def reload_command(client: Client, name: str) -> None:
    """Reload module NAME from its directory without stopping it.

    The new version is built, checked and initialized beside the running one and
    takes over between two events; if any step fails, the old version keeps
    running and the reason is printed (exit 1) and shown as its last error.
    """
    body = client.call("POST", f"/v1/modules/{name}/reload")
    client.show(body, lambda: _print_one("reloaded", body))


@module_group.command("revive", epilog=EXIT_CODES)
@click.argument("name")
@click.option(
    "--skip-event",
    is_flag=True,
    help="First pass it over the event it keeps failing on (marked handled with no effects, "
    "a 'skipped' trajectory and a log line); for a poison event the module cannot get past.",
)
@api_command
def revive_command(client: Client, name: str, skip_event: bool) -> None:
    """Revive dead module NAME: it resumes from its cursor (exit 1 if it is not dead)."""
    body = client.call(
        "POST", f"/v1/modules/{name}/revive" + ("?skip_event=true" if skip_event else "")
    )
    what = f"revived, skipped event {body['skipped_event_id']}," if skip_event else "revived"
    client.show(body, lambda: _print_one(what, body))


def _deadline(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        milliseconds = parse_duration_ms(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if milliseconds > 3_600_000:
        raise click.BadParameter(f"at most 1h, got {value!r}")
    return value


@module_group.command("drain", epilog=EXIT_CODES)
@click.argument("name")
@click.option(
    "--deadline",
    default="30s",
    show_default=True,
    callback=_deadline,
    help="Longest wait (at most 1h); past it the event in hand finishes and the rest "
    "stays in the journal for the next load.",
)
@api_command
def drain_command(client: Client, name: str, deadline: str) -> None:
    """Drain module NAME: it takes no new events, handles the ones queued now, then unloads.

    Events that arrive meanwhile, or are left at the deadline, stay in the journal
    and its cursor stays put: loading it again resumes from there.
    """
    # The engine answers once the module is unloaded: wait past the deadline.
    timeout = parse_duration_ms(deadline) / 1000 + 30
    body = client.call("POST", f"/v1/modules/{name}/drain?deadline={deadline}", timeout=timeout)

    def human() -> None:
        left = "" if body["complete"] else f" at the deadline, {body['left']} events left"
        console.print(Text.assemble("drained ", (name, "bold"), left), highlight=False)

    client.show(body, human)
