"""One structlog pipeline for engine and module logs (JSON or console)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any, TextIO

import structlog

_LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def configure_logging(
    fmt: str = "console",
    level: int = logging.INFO,
    stream: TextIO | None = None,
    tap: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """``stream``: where log lines go (stdout unless given; `cove mcp` needs stdout clean).

    ``tap``: sees every log line of every level before ``level`` filters it
    (`cove run --mock` prints a module's log lines in its transcript).
    """
    out = sys.stdout if stream is None else stream
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    processors: list[Any] = [structlog.processors.add_log_level]
    if tap is not None:
        processors.append(_Tap(tap, level))
    structlog.configure(
        processors=[
            *processors,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG if tap else level),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )


class _Tap:
    """Hands each line to ``tap``, then drops it if it is below ``level``."""

    def __init__(self, tap: Callable[[dict[str, Any]], None], level: int) -> None:
        self._tap = tap
        self._level = level

    def __call__(self, _logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
        self._tap(dict(event))
        if _LEVELS.get(method, logging.INFO) < self._level and method != "critical":
            raise structlog.DropEvent
        return event


def engine_logger() -> Any:
    return structlog.get_logger("cove")


def module_log(module: str, level: str, message: str, fields: dict[str, str]) -> None:
    """The log sink every module writes through (host calls and captured stdio)."""
    log = structlog.get_logger("cove.module")
    extra = {(f"field_{k}" if k in _RESERVED else k): v for k, v in fields.items()}
    log.log(_LEVELS.get(level, logging.INFO), message, module=module, **extra)


_RESERVED = frozenset({"event", "module", "level", "timestamp"})
