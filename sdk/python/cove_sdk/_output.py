"""The guest's stdout and stderr, flushed after a call only when it wrote to them.

Why: a call's prints must reach the module log with that call (guest output
is block-buffered), but flushing both streams after every event was a
measurable share of a Python guest's per-event cost (docs/performance.md).
Inside a component the streams are wrapped so that a write marks them, and
``flush_written`` flushes only then; in plain Python (``MockHost``) every
call flushes, as before.
"""

import io
import sys

_INSIDE = sys.platform == "wasi"
WRITTEN = [not _INSIDE]
"""Whether a stream was written since the last flush (always true outside a component)."""


class _Marking(io.TextIOWrapper):
    def write(self, text: str) -> int:
        WRITTEN[0] = True
        return super().write(text)


def flush_written() -> None:
    """Flush both streams (the caller checked ``WRITTEN[0]``, or wants it anyway)."""
    WRITTEN[0] = not _INSIDE
    sys.stdout.flush()
    sys.stderr.flush()


if _INSIDE:
    for _name in ("stdout", "stderr"):
        _stream = getattr(sys, _name)
        setattr(
            sys,
            _name,
            _Marking(
                _stream.detach(),
                encoding=_stream.encoding,
                errors=_stream.errors,
                line_buffering=_stream.line_buffering,
            ),
        )
