"""The log-file journal: the journal behaviour over an append-only file, torn tails and damage."""

import asyncio
import errno
import logging
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradewire.journal import log
from tradewire.journal.codec import encode
from tradewire.journal.errors import JournalCorrupt, JournalSchemaError, JournalWriteError
from tradewire.journal.log import LogFile, frame, log_journal
from tradewire.journal.store import Durability

from . import numbered_fill

BOTH_DURABILITIES = pytest.mark.parametrize("durability", ["fsync", "os"])
TESTS_DIRECTORY = str(Path(__file__).resolve().parent.parent)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "journal.log"


async def written(path: Path, count: int, durability: Durability = "os") -> None:
    async with log_journal(path, durability) as journal:
        for number in range(1, count + 1):
            journal.append(numbered_fill(number))
        await journal.flush()


def append_bytes(path: Path, data: bytes) -> int:
    """Append raw bytes, as a crash or a damaged disk leaves them; returns the new size."""
    with path.open("ab") as file:
        file.write(data)
    return path.stat().st_size


def contents(path: Path) -> bytes:
    return path.read_bytes()


def file_size(path: Path) -> int:
    return path.stat().st_size


def zero_bytes(path: Path, start: int, end: int) -> None:
    """Zeros over `start..end`, as an operating-system crash can leave a page that was never written."""
    data = bytearray(path.read_bytes())
    data[start:end] = bytes(end - start)
    path.write_bytes(bytes(data))


def change_byte(path: Path, offset: int, value: int | None = None) -> None:
    """Set (or, with no value, flip) one byte of the file."""
    data = bytearray(path.read_bytes())
    data[offset] = data[offset] ^ 0xFF if value is None else value
    path.write_bytes(bytes(data))


def replayed(path: Path, after: int = 0) -> list[int]:
    file = LogFile(path, "os")
    try:
        return [sequence for sequence, _ in file.replay(after)]
    finally:
        file.close(clean=True)


@BOTH_DURABILITIES
async def test_a_failed_write_fails_every_flush_and_later_append(
    path: Path, durability: Durability, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log, "RESERVE_BYTES", 0)  # every write must grow the file
    journal = log_journal(path, durability)
    await journal.start()
    journal.append(numbered_fill(1))
    await journal.flush()

    def disk_full(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", disk_full)
    for number in range(2, 40):  # more than the rest of the page reserved by the first write
        journal.append(numbered_fill(number))
    waiters = await asyncio.gather(journal.flush(2), return_exceptions=True)

    assert isinstance(waiters[0], JournalWriteError), waiters
    assert "No space left" in str(waiters[0])
    with pytest.raises(JournalWriteError, match="nothing after sequence 1 is durable"):
        journal.append(numbered_fill(40))
    with pytest.raises(JournalWriteError):
        await journal.close()
    monkeypatch.undo()
    assert replayed(path) == [1]
    assert file_size(path) == 8 + len(frame(1, encode(numbered_fill(1))))


async def test_a_torn_last_batch_is_cut_off_on_open_and_writing_continues(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await written(path, 4)
    torn = frame(5, encode(numbered_fill(5)))
    size_before = append_bytes(path, torn[: len(torn) // 2])

    with caplog.at_level(logging.WARNING):
        async with log_journal(path, "os") as journal:
            assert journal.last_sequence == 4
            journal.append(numbered_fill(5))
            await journal.flush()

    assert f"cut a torn tail of {len(torn) // 2} bytes after record 4" in caplog.text
    assert append_bytes(path, b"") == size_before - len(torn) // 2 + len(torn)
    assert replayed(path) == [1, 2, 3, 4, 5]


async def test_a_clean_close_leaves_exactly_the_records(path: Path) -> None:
    """The space reserved ahead of the writes is cut off: the file is its header and its frames."""
    await written(path, 3)

    frames = b"".join(frame(number, encode(numbered_fill(number))) for number in (1, 2, 3))
    assert contents(path)[8:] == frames


async def test_a_journal_opened_only_to_read_changes_nothing(path: Path) -> None:
    await written(path, 2)
    before = contents(path)

    assert replayed(path) == [1, 2]
    assert contents(path) == before


async def test_writes_past_the_reserved_space_grow_the_file_and_every_record_replays(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log, "RESERVE_BYTES", 0)  # every write grows the file and maps it again
    async with log_journal(path, "os") as journal:
        for number in range(1, 41):
            journal.append(numbered_fill(number))
            if number % 3 == 0:
                await journal.flush()
        assert file_size(path) > 8  # reserved and mapped while running
        assert [s for s, _ in journal.replay()] == list(range(1, 40))  # written so far

    assert replayed(path) == list(range(1, 41))


UNCLEAN_EXIT = """
import asyncio, os, sys
sys.path.insert(0, {tests!r})
from journal import numbered_fill
from tradewire.journal.log import log_journal

async def main():
    journal = log_journal({path!r}, "os")
    await journal.start()
    for number in range(1, 101):
        journal.append(numbered_fill(number))
    await journal.flush()
    os._exit(0)  # no close: the reserved zeros stay in the file

asyncio.run(main())
"""


async def test_after_an_exit_without_close_the_reserved_zeros_are_cut_and_every_record_kept(
    path: Path,
) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", UNCLEAN_EXIT.format(tests=TESTS_DIRECTORY, path=str(path))
    )
    assert await child.wait() == 0
    frames = b"".join(frame(number, encode(numbered_fill(number))) for number in range(1, 101))
    assert file_size(path) >= log.RESERVE_BYTES  # the crash left the reserved space
    assert contents(path)[8 : 8 + len(frames)] == frames

    assert LogFile(path, "os").stored_sequence == 100
    assert file_size(path) == 8 + len(frames)
    assert replayed(path) == list(range(1, 101))


async def test_zeros_in_place_of_a_record_in_the_middle_are_named_on_replay(path: Path) -> None:
    await written(path, 6)
    start, end = (8 + sum(len(frame(n, encode(numbered_fill(n)))) for n in range(1, last)) for last in (3, 4))
    zero_bytes(path, start, end)  # record 3 lost by an operating-system crash

    with pytest.raises(JournalCorrupt, match="record 3 is missing"):
        replayed(path)


async def test_a_zero_filled_tail_from_a_power_loss_is_cut_off(path: Path) -> None:
    await written(path, 3)
    append_bytes(path, bytes(4096))

    assert LogFile(path, "os").stored_sequence == 3
    assert replayed(path) == [1, 2, 3]


async def test_unreadable_bytes_longer_than_a_torn_batch_are_damage(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await written(path, 3)
    append_bytes(path, b"\xff" * 200)
    monkeypatch.setattr(log, "TORN_TAIL_LIMIT", 100)

    with pytest.raises(JournalCorrupt, match=r"200 bytes after record 3 .* this is damage"):
        LogFile(path, "os")


async def test_a_damaged_record_in_the_middle_is_named_on_replay(path: Path) -> None:
    await written(path, 6)
    first = len(frame(1, encode(numbered_fill(1))))
    change_byte(path, 8 + 3 * first + 30)  # a payload byte of record 4 (the records have equal sizes)

    with pytest.raises(JournalCorrupt, match="the record after 3 is damaged"):
        replayed(path)


def test_a_file_that_is_not_a_journal_log_is_refused(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"SQLite format 3\x00")

    with pytest.raises(JournalSchemaError, match="not a Tradewire journal log"):
        LogFile(path, "os")


async def test_a_newer_log_format_is_refused(path: Path) -> None:
    await written(path, 1)
    change_byte(path, 4, log.FORMAT_VERSION + 1)

    with pytest.raises(JournalSchemaError, match="log format version 2"):
        LogFile(path, "os")


def test_an_unknown_durability_is_refused(path: Path) -> None:
    with pytest.raises(ValueError, match="durability"):
        LogFile(path, durability="sometimes")  # type: ignore[arg-type]


def stored_batches(batches: list[int]) -> tuple[bytes, list[int]]:
    """The frames of `batches` consecutive records (sizes given) and the offset where each ends."""
    data, ends, sequence = b"", [], 0
    for size in batches:
        for _ in range(size):
            sequence += 1
            data += frame(sequence, encode(numbered_fill(sequence)))
            ends.append(8 + len(data))
    return data, ends


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.integers(min_value=1, max_value=8), min_size=1, max_size=6), data=st.data())
def test_a_log_cut_at_any_byte_reopens_as_the_whole_records_before_the_cut(
    tmp_path: Path, batches: list[int], data: st.DataObject
) -> None:
    """A crash can stop a write at any byte: what reopens is exactly the records wholly before it.
    The bytes after the cut are gone (a `write()`) or zeros (a copy into reserved space)."""
    path = tmp_path / f"cut-{os.urandom(4).hex()}.log"
    file = LogFile(path, "os")
    sequence = 0
    for size in batches:
        batch = []
        for _ in range(size):
            sequence += 1
            batch.append(
                (
                    sequence,
                    numbered_fill(sequence),
                    file.stored_form(sequence, encode(numbered_fill(sequence))),
                )
            )
        file.write(batch)
    file.close(clean=True)
    frames, ends = stored_batches(batches)
    assert path.read_bytes()[8:] == frames
    cut = data.draw(st.integers(min_value=8, max_value=len(frames) + 8), label="cut")
    reserved = data.draw(st.sampled_from([0, 1, 3, 4096, log.RESERVE_BYTES]), label="zeros after")
    with path.open("r+b") as handle:
        handle.truncate(cut)
        handle.truncate(cut + reserved)

    whole = len([end for end in ends if end <= cut])
    reopened = LogFile(path, "os")
    try:
        assert reopened.stored_sequence == whole
        assert [s for s, _ in reopened.replay(0)] == list(range(1, whole + 1))
        assert path.stat().st_size == (ends[whole - 1] if whole else 8)
    finally:
        reopened.close(clean=True)
