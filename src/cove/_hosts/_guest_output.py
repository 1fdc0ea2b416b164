"""A guest's stdout and stderr as module log lines: cut, rate-limited, or dropped.

WASI hands the host whatever the guest writes, as often as it likes; a print
loop must not turn into megabytes of engine log, and a module denied
``logging`` must not log through ``print``. Lines are cut at
``MAX_LOG_CHARS``; past ``LINES_PER_SECOND`` (bursts of ``BURST``) they are
dropped and counted, and the count is logged once the flood stops.
"""

from __future__ import annotations

from collections.abc import Callable

from .._capabilities._bounds import MAX_LOG_CHARS, clip
from .._capabilities._budgets import TokenBucket

OutputSink = Callable[[str, str, str, dict[str, str]], None]
"""(module, level, message, fields) -> None"""

LINES_PER_SECOND = 100
BURST = 1_000


class GuestOutput:
    """One instance's two streams; ``allowed`` is whether the module may log."""

    def __init__(self, module: str, sink: OutputSink, allowed: bool) -> None:
        self._module = module
        self._sink = sink
        self._allowed = allowed
        self._buffers: dict[str, bytes] = {"stdout": b"", "stderr": b""}
        self._rate = TokenBucket(LINES_PER_SECOND, BURST)
        self._dropped = 0
        self._held = False
        """Whether a write left something for ``flush``: a partial line or a drop count."""

    def write(self, stream: str, data: bytes) -> None:
        if not self._allowed:
            return
        joined = self._buffers[stream] + data
        end = joined.rfind(b"\n")
        rest = joined[end + 1 :]
        if end >= 0:
            # Lines past the rate are only counted (one C call), so a flood of
            # 100,000 lines costs the other modules no Python loop under the GIL.
            complete = joined[:end]
            count = complete.count(b"\n") + 1
            taken = self._rate.take_up_to(count)
            self._dropped += count - taken
            for line in complete.split(b"\n", taken)[:taken]:
                self._log(stream, line)
        if len(rest) > MAX_LOG_CHARS:  # no newline in sight: cut it here
            self._line(stream, rest)
            rest = b""
        self._buffers[stream] = rest
        self._held = bool(rest) or self._dropped > 0 or self._held

    def flush(self) -> None:
        # After every guest call: one attribute read when the call wrote nothing.
        if not self._held:
            return
        self._held = False
        for stream, rest in self._buffers.items():
            if rest:
                self._line(stream, rest)
                self._buffers[stream] = b""
        if self._dropped:  # one line per guest call, whatever the rate
            self._sink(
                self._module,
                "warn",
                f"{self._dropped} lines of guest output dropped (over {LINES_PER_SECOND} "
                "lines per second)",
                {"stream": "output"},
            )
            self._dropped = 0

    def _line(self, stream: str, line: bytes) -> None:
        if not self._rate.take():
            self._dropped += 1
            return
        self._log(stream, line)

    def _log(self, stream: str, line: bytes) -> None:
        text = clip(line[: 4 * MAX_LOG_CHARS].decode("utf-8", "replace"), MAX_LOG_CHARS)
        level = "info" if stream == "stdout" else "warn"
        self._sink(self._module, level, text, {"stream": stream})
