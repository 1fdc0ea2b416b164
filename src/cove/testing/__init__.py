"""Test seams shipped with cove: module authors and our own tests use the same fakes."""

from ._clock import FakeClock
from ._transport import MemoryTransport, SentMessage

__all__ = ["FakeClock", "MemoryTransport", "SentMessage"]
