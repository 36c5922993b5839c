"""The journal's behaviour on every backend and durability: append, group commit, flush, replay.

What is particular to a file (SQLite's schema and pragmas, the log's frames and torn tails) is in
test_sqlite.py and test_log.py."""

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tradewire.journal.backends import FILE_NAMES, Backend, open_journal
from tradewire.journal.errors import JournalClosedError
from tradewire.journal.group_commit import Journal
from tradewire.journal.store import Durability, JournalStore

from . import numbered_fill

Opener = Callable[[Path], Journal]
BACKENDS: list[Backend] = ["sqlite", "log"]


@pytest.fixture(params=[(b, d) for b in BACKENDS for d in ("fsync", "os")], ids=lambda p: f"{p[0]}-{p[1]}")
def opened(request: pytest.FixtureRequest) -> Opener:
    """Opens the journal at a path with this run's backend and durability."""
    backend, durability = request.param
    return lambda path: open_journal(backend, path, durability)


@pytest.fixture
def path(tmp_path: Path, opened: Opener) -> Path:
    return tmp_path / "var" / "journal"


async def test_every_backend_is_a_journal_store(path: Path, opened: Opener) -> None:
    journal: JournalStore = opened(path)
    await journal.close()


async def test_appended_records_are_flushed_and_replayed_in_order(path: Path, opened: Opener) -> None:
    async with opened(path) as journal:
        sequences = [journal.append(numbered_fill(number)) for number in range(1, 4)]
        assert sequences == [1, 2, 3]
        assert journal.last_sequence == 3

        await journal.flush()

        assert journal.durable_sequence == 3
        assert list(journal.replay()) == [(n, numbered_fill(n)) for n in (1, 2, 3)]


async def test_a_reopened_journal_replays_before_start_and_continues_the_sequence(
    path: Path,
    opened: Opener,
) -> None:
    async with opened(path) as journal:
        for number in range(1, 4):
            journal.append(numbered_fill(number))

    reopened = opened(path)
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


async def test_close_writes_out_records_that_were_never_flushed(path: Path, opened: Opener) -> None:
    started = opened(path)
    await started.start()
    for number in range(1, 11):
        started.append(numbered_fill(number))
    await started.close()

    never_started = opened(path)
    never_started.append(numbered_fill(11))
    await never_started.close()

    reopened = opened(path)
    assert [sequence for sequence, _ in reopened.replay()] == list(range(1, 12))
    await reopened.close()


async def test_a_thousand_appends_and_one_flush_share_few_commits(path: Path, opened: Opener) -> None:
    records = 1_000
    async with opened(path) as journal:
        for number in range(1, records + 1):
            journal.append(numbered_fill(number))
        await journal.flush()

        assert journal.records_written == records
        assert journal.commit_count < records / 10


async def test_many_flush_waiters_are_resolved_by_one_commit(path: Path, opened: Opener) -> None:
    journal = opened(path)
    for number in range(1, 51):
        journal.append(numbered_fill(number))
    async with journal:
        await asyncio.gather(*(journal.flush(sequence) for sequence in range(1, 51)))

        assert journal.commit_count == 1
        assert journal.records_written == 50


async def test_records_appended_close_together_are_written_in_one_commit_without_a_flush(
    path: Path,
    opened: Opener,
) -> None:
    async with opened(path) as journal:
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


async def test_flush_of_a_durable_sequence_returns_at_once(path: Path, opened: Opener) -> None:
    async with opened(path) as journal:
        journal.append(numbered_fill(1))
        await journal.flush()
        commits = journal.commit_count

        await journal.flush(1)
        await journal.flush(0)

        assert journal.commit_count == commits


async def test_flush_of_a_sequence_never_appended_is_refused(path: Path, opened: Opener) -> None:
    async with opened(path) as journal:
        with pytest.raises(ValueError, match="only 0 appended"):
            await journal.flush(1)


async def test_append_after_close_is_refused(path: Path, opened: Opener) -> None:
    journal = opened(path)
    await journal.start()
    await journal.close()
    await journal.close()

    with pytest.raises(JournalClosedError):
        journal.append(numbered_fill(1))


@pytest.mark.parametrize("backend", BACKENDS)
async def test_with_os_durability_a_flush_writes_on_the_loop_without_suspending(
    tmp_path: Path, backend: Backend
) -> None:
    path = tmp_path / FILE_NAMES[backend]
    async with open_journal(backend, path, "os") as journal:
        journal.append(numbered_fill(1))
        journal.append(numbered_fill(2))
        flushing = journal.flush()

        with pytest.raises(StopIteration):
            flushing.send(None)  # completed in one step: no await on another thread
        assert journal.durable_sequence == 2
        assert journal.commit_count == 1
    reopened = open_journal(backend, path, "os")
    assert [sequence for sequence, _ in reopened.replay()] == [1, 2]
    await reopened.close()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("durability", "writer_threads"), [("fsync", 1), ("os", 0)])
async def test_only_fsync_durability_runs_a_writer_thread(
    tmp_path: Path, backend: Backend, durability: Durability, writer_threads: int
) -> None:
    def writers() -> list[threading.Thread]:
        return [thread for thread in threading.enumerate() if thread.name.startswith("journal-writer:")]

    async with open_journal(backend, tmp_path / FILE_NAMES[backend], durability) as journal:
        journal.append(numbered_fill(1))
        await journal.flush()

        assert len(writers()) == writer_threads
    assert not writers()
