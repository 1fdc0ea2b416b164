"""The JetStream journal on a real nats-server: stable ids deduplicated by the stream's
duplicate window, reads in stream order, a restart of the server survived."""

from __future__ import annotations

import itertools
import re
import threading
import time

import pytest

from cove import Custom, Event
from cove._store._base import JournalRetention
from cove._store._jetstream import JetStreamJournal
from cove.errors import StoreError
from tests.helpers.nats import NatsServer

_streams = itertools.count()


def _journal(url: str, window_s: float = 60.0) -> JetStreamJournal:
    return JetStreamJournal(url, f"T{next(_streams)}", window_s, timeout_s=1.0)


def _events(count: int, prefix: str = "e") -> list[Event]:
    return [Event(Custom("probe.tick", "src", "{}"), id=f"{prefix}{i}") for i in range(count)]


def _ids(journal: JetStreamJournal, after_seq: int = 0) -> list[str]:
    """Every id after ``after_seq``, read as a module does: until a read finds nothing."""
    ids: list[str] = []
    while entries := journal.read(after_seq, 100):
        ids += [e.event.id for e in entries]
        after_seq = entries[-1].seq
    return ids


def test_a_re_sent_id_is_journaled_once(nats_server: NatsServer) -> None:
    journal = _journal(nats_server.url)
    try:
        first = journal.append(_events(3))
        assert [1, 2, 3] == [e.seq for e in first]
        again = journal.append([*_events(3), Event(Custom("probe.tick", "", "{}"), id="e0")])
        assert [] == again, "ids inside the duplicate window are not journaled twice"
        more = journal.append(_events(2, "f"))
        assert [4, 5] == [e.seq for e in more]
        assert ["e0", "e1", "e2", "f0", "f1"] == _ids(journal)
        assert [2] == [e.seq for e in journal.read(1, 1)]
        assert 5 == journal.head()
    finally:
        journal.close()


def test_a_batch_is_journaled_in_its_order(nats_server: NatsServer) -> None:
    """A batch is published at once and its PubAcks awaited together: its sequences still
    follow the batch's order, and an id twice in it or already journaled is dropped."""
    journal = _journal(nats_server.url)
    try:
        journal.append(_events(5, "old"))
        batch = [*_events(50), *_events(2, "old"), *_events(3)]
        added = journal.append(batch)
        assert [f"e{i}" for i in range(50)] == [e.event.id for e in added]
        assert list(range(6, 56)) == [e.seq for e in added]
        assert [f"e{i}" for i in range(50)] == _ids(journal, 5)
    finally:
        journal.close()


def test_reads_follow_the_stream_order_from_a_cursor(nats_server: NatsServer) -> None:
    journal = _journal(nats_server.url)
    try:
        journal.append(_events(10))
        assert [f"e{i}" for i in range(3, 10)] == _ids(journal, 3)
        assert 3 >= len(journal.read(3, 3)), "at most the limit"
        assert [] == journal.read(10, 5)
        event = journal.read(0, 1)[0].event
        assert Custom("probe.tick", "src", "{}") == event.payload
    finally:
        journal.close()


def test_a_second_engine_is_woken_by_the_stream(nats_server: NatsServer) -> None:
    name = f"W{next(_streams)}"
    a = JetStreamJournal(nats_server.url, name, 60.0)
    b = JetStreamJournal(nats_server.url, name, 60.0)
    woken = threading.Event()
    try:
        b.watch(woken.set)
        a.append(_events(1))
        assert woken.wait(5), "b's subscription did not see a's append"
        assert ["e0"] == _ids(b)
    finally:
        a.close()
        b.close()


def test_retention_purges_only_what_every_module_passed(nats_server: NatsServer) -> None:
    journal = _journal(nats_server.url)
    try:
        journal.append(_events(10))
        assert 10 == journal.size().entries
        everything = JournalRetention(before_ms=int(time.time() * 1000) + 60_000, max_bytes=0)
        assert 4 == journal.prune(everything, floor_seq=4)
        assert ["e4", "e5"] == _ids(journal)[:2]
        young = JournalRetention(before_ms=0, max_bytes=10**9)
        assert 0 == journal.prune(young, floor_seq=10), "nothing is old enough"
        assert 5 == journal.prune(everything, floor_seq=100), "all but the newest go"
        assert ["e9"] == _ids(journal)
        assert 10 == journal.head(), "the head stays"
    finally:
        journal.close()


def test_a_server_restart_keeps_the_journal_and_its_dedup() -> None:
    server = NatsServer()
    server.start()
    journal = _journal(server.url)
    woken = threading.Event()
    journal.watch(woken.set)
    try:
        journal.append(_events(3))
        server.kill()
        with pytest.raises(StoreError, match=re.escape(server.url)):
            journal.append(_events(1, "g"))
        server.start()
        deadline = time.monotonic() + 15
        while True:
            try:
                journal.append([*_events(3), *_events(1, "g")])
                break
            except StoreError:
                assert time.monotonic() < deadline, "the journal did not reconnect"
                time.sleep(0.2)
        assert ["e0", "e1", "e2", "g0"] == _ids(journal), "a restart lost an entry or its dedup"
        woken.clear()
        journal.append(_events(1, "h"))
        assert woken.wait(20), "the subscription did not come back after the restart"
        assert ["h0"] == _ids(journal, 4)
    finally:
        journal.close()
        server.stop()


def test_an_unreachable_server_is_named() -> None:
    with pytest.raises(StoreError, match=re.escape("nats://127.0.0.1:1 stream")):
        JetStreamJournal("nats://127.0.0.1:1", "X", 60.0, timeout_s=0.5)


def test_an_existing_stream_keeps_its_settings_and_takes_the_window(
    nats_server: NatsServer,
) -> None:
    """A stream the operator made (here with a message limit) is not replaced: only the
    duplicate window and direct gets are set on it."""
    name = f"O{next(_streams)}"
    first = JetStreamJournal(nats_server.url, name, 60.0)
    first.close()

    async def limit() -> None:
        import nats

        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        config = (await js.stream_info(name)).config
        config.max_msgs = 1000
        await js.update_stream(config)
        await nc.close()

    import asyncio

    asyncio.run(limit())
    again = JetStreamJournal(nats_server.url, name, 30.0)
    try:

        async def settings() -> tuple[float, int]:
            import nats

            nc = await nats.connect(nats_server.url)
            config = (await nc.jetstream().stream_info(name)).config
            await nc.close()
            return config.duplicate_window, int(config.max_msgs or 0)

        assert (30.0, 1000) == asyncio.run(settings())
    finally:
        again.close()
