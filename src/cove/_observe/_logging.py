"""One structlog pipeline for engine and module logs (JSON or console)."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

_LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}


def configure_logging(
    fmt: str = "console", level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """``stream``: where log lines go (stdout unless given; `cove mcp` needs stdout clean)."""
    out = sys.stdout if stream is None else stream
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )


def engine_logger() -> Any:
    return structlog.get_logger("cove")


def module_log(module: str, level: str, message: str, fields: dict[str, str]) -> None:
    """The log sink every module writes through (host calls and captured stdio)."""
    log = structlog.get_logger("cove.module")
    extra = {(f"field_{k}" if k in _RESERVED else k): v for k, v in fields.items()}
    log.log(_LEVELS.get(level, logging.INFO), message, module=module, **extra)


_RESERVED = frozenset({"event", "module", "level", "timestamp"})
