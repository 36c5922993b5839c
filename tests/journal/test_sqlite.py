import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tradewire.domain.events import JournalRecord, OrderSubmitted
from tradewire.domain.ids import ClientOrderId, EventId
from tradewire.journal.errors import (
    JournalCorrupt,
    JournalSchemaError,
    JournalWriteError,
)
from tradewire.journal.sqlite import REPLAY_BATCH, SqliteFile, sqlite_journal
from tradewire.journal.store import Durability

from . import T0, numbered_fill


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "journal.sqlite"


BOTH_DURABILITIES = pytest.mark.parametrize("durability", ["fsync", "os"])
"""Behaviour both writers share: "fsync" writes on a thread, "os" on the loop."""


def raw(path: Path) -> "closing[sqlite3.Connection]":
    """A plain connection to the file, for what the journal itself would never do."""
    return closing(sqlite3.connect(path, isolation_level=None))


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
