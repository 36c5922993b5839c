import asyncio
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from tradewire.domain.events import JournalRecord, OrderSubmitted
from tradewire.domain.ids import ClientOrderId, EventId
from tradewire.journal.errors import (
    JournalClosedError,
    JournalCorrupt,
    JournalSchemaError,
    JournalWriteError,
)
from tradewire.journal.sqlite import REPLAY_BATCH, SqliteFile, sqlite_journal
from tradewire.journal.store import Durability, JournalStore

from . import T0, numbered_fill


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "journal.sqlite"


BOTH_DURABILITIES = pytest.mark.parametrize("durability", ["fsync", "os"])
"""Behaviour both writers share: "fsync" writes on a thread, "os" on the loop."""


def raw(path: Path) -> "closing[sqlite3.Connection]":
    """A plain connection to the file, for what the journal itself would never do."""
    return closing(sqlite3.connect(path, isolation_level=None))


async def test_sqlite_journal_is_a_journal_store(path: Path) -> None:
    journal: JournalStore = sqlite_journal(path)
    await journal.close()


@BOTH_DURABILITIES
async def test_appended_records_are_flushed_and_replayed_in_order(path: Path, durability: Durability) -> None:
    async with sqlite_journal(path, durability) as journal:
        sequences = [journal.append(numbered_fill(number)) for number in range(1, 4)]
        assert sequences == [1, 2, 3]
        assert journal.last_sequence == 3

        await journal.flush()

        assert journal.durable_sequence == 3
        assert list(journal.replay()) == [(n, numbered_fill(n)) for n in (1, 2, 3)]


@BOTH_DURABILITIES
async def test_a_reopened_journal_replays_before_start_and_continues_the_sequence(
    path: Path,
    durability: Durability,
) -> None:
    async with sqlite_journal(path, durability) as journal:
        for number in range(1, 4):
            journal.append(numbered_fill(number))

    reopened = sqlite_journal(path, durability)
    try:
        assert [sequence for sequence, _ in reopened.replay()] == [1, 2, 3]
        assert reopened.last_sequence == 3
        assert reopened.durable_sequence == 3
        await reopened.start()
        assert reopened.append(numbered_fill(4)) == 4
        await reopened.flush()
        assert list(reopened.replay(after=2)) == [(3, numbered_fill(3)), (4, numbered_fill(4))]
        assert list(reopened.replay(after=4)) == []
    finally:
        await reopened.close()


@BOTH_DURABILITIES
async def test_close_writes_out_records_that_were_never_flushed(path: Path, durability: Durability) -> None:
    started = sqlite_journal(path, durability)
    await started.start()
    for number in range(1, 11):
        started.append(numbered_fill(number))
    await started.close()

    never_started = sqlite_journal(path, durability)
    never_started.append(numbered_fill(11))
    await never_started.close()

    reopened = sqlite_journal(path, durability)
    assert [sequence for sequence, _ in reopened.replay()] == list(range(1, 12))
    await reopened.close()


@BOTH_DURABILITIES
async def test_a_thousand_appends_and_one_flush_share_few_commits(path: Path, durability: Durability) -> None:
    records = 1_000
    async with sqlite_journal(path, durability) as journal:
        for number in range(1, records + 1):
            journal.append(numbered_fill(number))
        await journal.flush()

        assert journal.records_written == records
        assert journal.commit_count < records / 10


@BOTH_DURABILITIES
async def test_many_flush_waiters_are_resolved_by_one_commit(path: Path, durability: Durability) -> None:
    journal = sqlite_journal(path, durability)
    for number in range(1, 51):
        journal.append(numbered_fill(number))
    async with journal:
        await asyncio.gather(*(journal.flush(sequence) for sequence in range(1, 51)))

        assert journal.commit_count == 1
        assert journal.records_written == 50


@BOTH_DURABILITIES
async def test_records_appended_close_together_are_written_in_one_commit_without_a_flush(
    path: Path,
    durability: Durability,
) -> None:
    async with sqlite_journal(path, durability) as journal:
        journal.append(numbered_fill(1))
        time.sleep(0.05)  # noqa: ASYNC251 -- holds the loop: a writer given the record now commits it alone
        for number in range(2, 6):
            journal.append(numbered_fill(number))

        async def durable() -> None:
            # Polled on purpose: nothing here may await flush, whose hand-over this test leaves out.
            while journal.durable_sequence < 5:  # noqa: ASYNC110
                await asyncio.sleep(0.01)

        await asyncio.wait_for(durable(), timeout=10)
        assert journal.commit_count == 1
        assert journal.records_written == 5
        assert [sequence for sequence, _ in journal.replay()] == [1, 2, 3, 4, 5]


async def test_flush_does_not_return_before_the_record_is_durable(path: Path) -> None:
    async with sqlite_journal(path) as journal:
        with raw(path) as other_writer:
            other_writer.execute("BEGIN IMMEDIATE")  # holds the write lock: our commit must wait
            sequence = journal.append(numbered_fill(1))
            flushing = asyncio.create_task(journal.flush(sequence))
            await asyncio.sleep(0.3)

            assert not flushing.done()
            assert journal.durable_sequence == 0
            other_writer.execute("ROLLBACK")

        await asyncio.wait_for(flushing, timeout=10)
        assert journal.durable_sequence == sequence
        assert list(journal.replay()) == [(1, numbered_fill(1))]


@BOTH_DURABILITIES
async def test_flush_of_a_durable_sequence_returns_at_once(path: Path, durability: Durability) -> None:
    async with sqlite_journal(path, durability) as journal:
        journal.append(numbered_fill(1))
        await journal.flush()
        commits = journal.commit_count

        await journal.flush(1)
        await journal.flush(0)

        assert journal.commit_count == commits


async def test_flush_of_a_sequence_never_appended_is_refused(path: Path) -> None:
    async with sqlite_journal(path) as journal:
        with pytest.raises(ValueError, match="only 0 appended"):
            await journal.flush(1)


@pytest.mark.parametrize(("durability", "synchronous"), [("fsync", 2), ("os", 1)])
async def test_durability_sets_the_synchronous_pragma(
    path: Path, durability: Durability, synchronous: int
) -> None:
    file = SqliteFile(path, durability=durability)
    file.close(clean=True)

    assert file.pragmas["synchronous"] == synchronous
    assert file.pragmas["journal_mode"] == "wal"
    with raw(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_an_unknown_durability_is_refused(path: Path) -> None:
    with pytest.raises(ValueError, match="durability"):
        SqliteFile(path, durability="sometimes")  # type: ignore[arg-type]


@BOTH_DURABILITIES
async def test_a_failed_write_fails_every_flush_and_later_append(path: Path, durability: Durability) -> None:
    journal = sqlite_journal(path, durability)
    await journal.start()
    journal.append(numbered_fill(1))
    await journal.flush()
    with raw(path) as connection:
        connection.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON journal BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        )

    journal.append(numbered_fill(2))
    journal.append(numbered_fill(3))
    waiters = await asyncio.gather(journal.flush(2), journal.flush(3), return_exceptions=True)

    assert all(isinstance(error, JournalWriteError) for error in waiters), waiters
    assert "disk on fire" in str(waiters[0])
    with pytest.raises(JournalWriteError, match="nothing after sequence 1 is durable"):
        journal.append(numbered_fill(4))
    with pytest.raises(JournalWriteError):
        await journal.flush(1)
    with pytest.raises(JournalWriteError):
        await journal.close()
    await journal.close()
    assert journal.durable_sequence == 1
    assert [sequence for sequence, _ in journal.replay()] == [1]


@BOTH_DURABILITIES
async def test_append_after_close_is_refused(path: Path, durability: Durability) -> None:
    journal = sqlite_journal(path, durability)
    await journal.start()
    await journal.close()
    await journal.close()

    with pytest.raises(JournalClosedError):
        journal.append(numbered_fill(1))


async def test_an_unencodable_record_takes_no_sequence_number(path: Path) -> None:
    naive = OrderSubmitted(
        event_id=EventId("event-1"),
        ts_event=T0.replace(tzinfo=None),
        ts_recorded=T0,
        client_order_id=ClientOrderId("order-1"),
    )
    async with sqlite_journal(path) as journal:
        with pytest.raises(ValueError, match="timezone-aware"):
            journal.append(naive)

        assert journal.append(numbered_fill(1)) == 1


async def test_a_newer_schema_version_is_refused(path: Path) -> None:
    await sqlite_journal(path).close()
    with raw(path) as connection:
        connection.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")

    with pytest.raises(JournalSchemaError, match=r"schema version '2'.*reads up to 1"):
        sqlite_journal(path)


async def test_a_corrupt_payload_is_named_by_its_sequence_on_replay(path: Path) -> None:
    async with sqlite_journal(path) as journal:
        for number in range(1, 4):
            journal.append(numbered_fill(number))
    with raw(path) as connection:
        connection.execute("UPDATE journal SET payload = x'c1' WHERE sequence = 2")

    journal = sqlite_journal(path)
    replayed: list[tuple[int, JournalRecord]] = []
    with pytest.raises(JournalCorrupt, match=r"record 2 \(OrderFilled\) cannot be decoded"):
        replayed.extend(journal.replay())
    assert replayed == [(1, numbered_fill(1))]
    await journal.close()


async def test_a_gap_in_the_sequence_is_reported_on_replay(path: Path) -> None:
    async with sqlite_journal(path) as journal:
        for number in range(1, 4):
            journal.append(numbered_fill(number))
    with raw(path) as connection:
        connection.execute("DELETE FROM journal WHERE sequence = 2")

    journal = sqlite_journal(path)
    with pytest.raises(JournalCorrupt, match=r"record 2 is missing \(next stored: 3\)"):
        list(journal.replay())
    await journal.close()


async def test_a_journal_longer_than_a_fetch_batch_replays_whole_and_finds_a_gap_past_it(path: Path) -> None:
    count = 2 * REPLAY_BATCH + 7
    async with sqlite_journal(path, "os") as journal:
        for number in range(1, count + 1):
            journal.append(numbered_fill(number))

    replayed = list(sqlite_journal(path).replay())

    assert [sequence for sequence, _ in replayed] == list(range(1, count + 1))
    assert replayed[-1] == (count, numbered_fill(count))
    with raw(path) as connection:
        connection.execute("DELETE FROM journal WHERE sequence = ?", (REPLAY_BATCH + 1,))
    with pytest.raises(JournalCorrupt, match=rf"record {REPLAY_BATCH + 1} is missing"):
        list(sqlite_journal(path).replay())


async def test_with_os_durability_flush_commits_on_the_loop_without_suspending(path: Path) -> None:
    async with sqlite_journal(path, "os") as journal:
        journal.append(numbered_fill(1))
        journal.append(numbered_fill(2))
        flushing = journal.flush()

        with pytest.raises(StopIteration):
            flushing.send(None)  # completed in one step: no await on another thread
        assert journal.durable_sequence == 2
        assert journal.commit_count == 1
        with raw(path) as connection:
            assert connection.execute("SELECT count(*) FROM journal").fetchone() == (2,)


@pytest.mark.parametrize(("durability", "writer_threads"), [("fsync", 1), ("os", 0)])
async def test_only_fsync_durability_runs_a_writer_thread(
    path: Path, durability: Durability, writer_threads: int
) -> None:
    async with sqlite_journal(path, durability) as journal:
        journal.append(numbered_fill(1))
        await journal.flush()
        writers = [thread for thread in threading.enumerate() if thread.name.startswith("journal-writer:")]

        assert len(writers) == writer_threads
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("journal-writer:")]
