"""``cove trace``: read trajectories (one line per handled event), optionally following."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any, get_args

import click
from rich.text import Text

from .._observe._trajectories import Outcome
from .._units import parse_duration_ms
from ._client import EXIT_CODES, Client, api_command, console


def _when(text: str | None) -> str | None:
    """``10m`` means ten minutes ago; anything else goes to the engine as it is."""
    if text is None:
        return None
    try:
        return str(time.time_ns() // 1_000_000 - parse_duration_ms(text))
    except ValueError:
        return text


def outcome_mark(outcome: str) -> Text:
    """✓ ok, ↷ skipped (an operator passed the module over it), ✗ failed."""
    mark, style = {"ok": ("✓", "green"), "skipped": ("↷", "yellow")}.get(outcome, ("✗", "red"))
    return Text(mark, style=style)


def trajectory_line(
    prefix: str,
    outcome: str,
    module: str,
    what: str,
    cost: str,
    calls: str,
    error: str,
) -> Text:
    """One trajectory as a line of plain text with styles: the module's own text
    (its error, its event ids, its call summaries) is never read as rich markup."""
    line = Text.assemble(prefix, outcome_mark(outcome), " ", (module, "bold"), f" {what} ({cost}) ")
    line.append(calls, style="dim")
    if error:
        line.append(" ").append(error, style="red")
    return line


def print_trajectory(t: dict[str, Any], verbose: bool) -> None:
    at = datetime.fromtimestamp(t["at_ms"] / 1000, UTC).strftime("%H:%M:%S.%f")[:-3]
    calls = ", ".join(
        f"{c['interface']}.{c['function']}" + (" !" if c["error"] else "") for c in t["calls"]
    )
    cost = f"{t['wall_ns'] / 1e6:.2f} ms, fuel {t['fuel']:,}"
    console.print(
        trajectory_line(
            f"{at} ", t["outcome"], t["module"], t["event_id"], cost, calls, t["error"] or ""
        ),
        highlight=False,
    )
    if verbose:
        for c in t["calls"]:
            line = Text(
                f"    {c['interface']}.{c['function']}({c['summary']}) "
                f"{c['duration_ns'] / 1e3:.1f} µs"
            )
            if c["error"]:
                line.append(" ").append(c["error"], style="red")
            console.print(line, highlight=False)


@click.command("trace", epilog=EXIT_CODES)
@click.option("--module", "-m", help="Only this module.")
@click.option("--outcome", type=click.Choice(get_args(Outcome)), help="Only this outcome.")
@click.option("--since", help="From this time: a duration ago (10m, 2h) or ISO 8601 / Unix ms.")
@click.option("--until", help="Up to this time (same forms as --since).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new trajectories until Ctrl-C.")
@click.option("--interval", type=click.FloatRange(0.1), default=1.0, show_default=True,
              help="Seconds between polls with --follow.")  # fmt: skip
@click.option("--verbose", "-v", is_flag=True, help="Show every host call with its summary.")
@api_command
def trace_command(
    client: Client,
    module: str | None,
    outcome: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    follow: bool,
    interval: float,
    verbose: bool,
) -> None:
    """Trajectories of handled events: the newest LIMIT, oldest first; --json prints JSON lines."""
    params = {
        k: v
        for k, v in {"module": module, "outcome": outcome, "since": _when(since),
                     "until": _when(until), "limit": limit}.items()
        if v is not None
    }  # fmt: skip
    body = client.call("GET", "/v1/trajectories", params=params)
    records = list(reversed(body["trajectories"]))
    last_id = body["last_id"]
    while True:
        for record in records:
            if client.as_json:
                click.echo(json.dumps(record))
            else:
                print_trajectory(record, verbose)
        if not follow:
            return
        try:
            time.sleep(interval)
        except KeyboardInterrupt:
            return
        body = client.call("GET", "/v1/trajectories", params={**params, "after": last_id})
        records, last_id = body["trajectories"], body["last_id"]
