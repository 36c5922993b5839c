"""The log-file journal: records appended to one file, one `write()` per batch (`journal.backend = "log"`).

`log_journal(path, durability)` is the engine's journal over it (`tradewire.journal.group_commit`
explains appending, group commit and flush). It exists for speed: a batch is one `write()` system
call (1-5 us here) where an SQLite commit of the same records takes 15-25 us with a p99 near
100 us, and that write sits on the signal -> venue send path. SQLite stays the default for what
it gives besides: a file any SQLite tool can query.

The file is an 8-byte header (`TWJL`, format version, reserved) followed by one frame per record:

    length u32 | sequence u64 | payload (the codec's msgpack, `length` bytes) | crc32 u32 | length u32

little-endian, the CRC over everything before it in the frame (length, sequence, payload). The
trailing length lets opening find the last record from the end of the file instead of reading it
all.

Durability: "os" writes the batch and returns (a kill -9 of the process loses nothing written);
"fsync" writes it and `fdatasync`s the file before returning (on the journal's writer thread).

A crash can leave the last batch partly written (a torn tail). Opening cuts a torn tail off, after
the last whole record, and says so in the log: those records were never durable, since a batch is
durable only once its write (and fsync) returned. Damage is not cut: unreadable bytes that are
longer than `TORN_TAIL_LIMIT`, or a whole record with a wrong CRC met on replay, raise
`JournalCorrupt` naming the sequence, and the engine refuses to start.
"""

import logging
import os
import struct
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Final

import msgspec

from tradewire.domain.events import JournalRecord
from tradewire.journal.codec import decode
from tradewire.journal.errors import JournalCorrupt, JournalError, JournalSchemaError
from tradewire.journal.group_commit import Journal
from tradewire.journal.store import Durability, Entry

MAGIC: Final = b"TWJL"
FORMAT_VERSION: Final = 1
_FILE_HEADER: Final = struct.Struct("<4sHH")
_FRAME_HEAD: Final = struct.Struct("<IQ")
"""Payload length, sequence."""
_FRAME_TAIL: Final = struct.Struct("<II")
"""CRC-32 of the head and payload, payload length again."""
_OVERHEAD: Final = _FRAME_HEAD.size + _FRAME_TAIL.size
TORN_TAIL_LIMIT: Final = 64 * 1024 * 1024
"""Unreadable bytes at the end of the file longer than this are damage, not a torn last batch."""
_READ_CHUNK: Final = 4 * 1024 * 1024
logger = logging.getLogger(__name__)

_sync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)
"""fdatasync where the platform has it (Linux), else fsync (macOS)."""


def log_journal(path: Path | str, durability: Durability = "fsync") -> Journal:
    """The engine's journal in the log file at `path` (created if missing)."""
    return Journal(LogFile(path, durability))


def frame(sequence: int, payload: bytes) -> bytes:
    """One record as stored."""
    head = _FRAME_HEAD.pack(len(payload), sequence)
    return b"".join((head, payload, _FRAME_TAIL.pack(zlib.crc32(payload, zlib.crc32(head)), len(payload))))


class LogFile:
    """A `JournalFile` in one append-only file: opens it (cutting a torn tail), writes, replays."""

    def __init__(self, path: Path | str, durability: Durability = "fsync") -> None:
        if durability not in ("fsync", "os"):
            raise ValueError(f"durability must be 'fsync' or 'os', got {durability!r}")
        self._path = Path(path)
        self._durability: Durability = durability
        self._fd = _open_for_writing(self._path, durability)
        try:
            self._stored_sequence = _recover_end(self._fd, self._path)
        except BaseException:
            os.close(self._fd)
            raise

    @property
    def path(self) -> Path:
        return self._path

    @property
    def durability(self) -> Durability:
        return self._durability

    @property
    def stored_sequence(self) -> int:
        return self._stored_sequence

    def write(self, batch: Sequence[Entry]) -> None:
        view = memoryview(b"".join([frame(sequence, payload) for sequence, _, payload in batch]))
        while view:
            view = view[os.write(self._fd, view) :]
        if self._durability == "fsync":
            _sync(self._fd)

    def replay(self, after: int = 0) -> Iterator[tuple[int, JournalRecord]]:
        """Read through a file object of its own, so it works beside the writer; a record being
        written at the end of the file while this reads is not returned."""
        with self._path.open("rb") as file:
            _check_header(file.read(_FILE_HEADER.size), self._path)
            expected = 1
            for sequence, payload in read_frames(file, self._path):
                if sequence != expected:
                    raise JournalCorrupt(
                        f"journal {self._path}: record {expected} is missing (next stored: {sequence})"
                    )
                expected += 1
                if sequence <= after:
                    continue
                try:
                    record = decode(payload)
                except msgspec.DecodeError as error:
                    raise JournalCorrupt(
                        f"journal {self._path}: record {sequence} cannot be decoded: {error}"
                    ) from error
                yield sequence, record

    def start_upkeep(self) -> None:
        """Nothing to keep up: the file only grows."""

    def close(self, clean: bool) -> None:
        os.close(self._fd)


def read_frames(file: BinaryIO, path: Path) -> Iterator[tuple[int, memoryview]]:
    """(sequence, payload) of every whole record from the file's position; stops quietly at an
    incomplete record at the end (a torn tail, or one being written) and raises `JournalCorrupt`
    for a whole record whose CRC or trailing length is wrong."""
    buffer = b""
    view = memoryview(buffer)
    position = 0
    previous = 0
    head_size, overhead = _FRAME_HEAD.size, _OVERHEAD
    unpack_head, unpack_tail, crc32 = _FRAME_HEAD.unpack_from, _FRAME_TAIL.unpack_from, zlib.crc32
    while True:
        if len(buffer) - position >= head_size:
            length, sequence = unpack_head(buffer, position)
            body_end = position + head_size + length
            if body_end + _FRAME_TAIL.size <= len(buffer):
                crc, trailing = unpack_tail(buffer, body_end)
                if trailing != length or crc32(view[position:body_end]) != crc:
                    raise JournalCorrupt(f"journal {path}: the record after {previous} is damaged (checksum)")
                previous = sequence
                yield sequence, view[position + head_size : body_end]
                position = body_end + overhead - head_size
                continue
        more = file.read(_READ_CHUNK)  # bounded: a damaged length must not size an allocation
        if not more:
            return
        buffer = buffer[position:] + more
        view = memoryview(buffer)
        position = 0


def _open_for_writing(path: Path, durability: Durability) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as error:
        raise JournalError(f"cannot open journal {path}: {error}") from error
    try:
        size = os.fstat(fd).st_size
        header = _FILE_HEADER.pack(MAGIC, FORMAT_VERSION, 0)
        if size < len(header) and header.startswith(os.pread(fd, size, 0)):
            os.ftruncate(fd, 0)  # new, or a crash while it was being created
            os.write(fd, header)
            _sync(fd)
            if durability == "fsync" and sys.platform != "win32":
                _sync_directory(path.parent)
        else:
            _check_header(os.pread(fd, len(header), 0), path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_header(header: bytes, path: Path) -> None:
    if len(header) < _FILE_HEADER.size or header[:4] != MAGIC:
        raise JournalSchemaError(f"{path} is not a Tradewire journal log (it does not start with {MAGIC!r})")
    _, version, _ = _FILE_HEADER.unpack(header)
    if version > FORMAT_VERSION:
        raise JournalSchemaError(
            f"journal {path} has log format version {version}; this Tradewire reads up to "
            f"{FORMAT_VERSION}. Open it with the Tradewire version that wrote it."
        )


def _recover_end(fd: int, path: Path) -> int:
    """The last stored sequence; cuts a torn tail off the file first."""
    size = os.fstat(fd).st_size
    if size == _FILE_HEADER.size:
        return 0
    last = _last_from_the_end(fd, size)
    if last is not None:
        return last
    with path.open("rb") as file:  # the end is torn: find the last whole record from the start
        file.seek(_FILE_HEADER.size)
        last, end = 0, _FILE_HEADER.size
        try:
            for sequence, payload in read_frames(file, path):
                last, end = sequence, end + _OVERHEAD + len(payload)
        except JournalCorrupt:
            pass  # damage after `end`: measured below
    torn = size - end
    if torn > TORN_TAIL_LIMIT:
        raise JournalCorrupt(
            f"journal {path}: {torn} bytes after record {last} (offset {end}) are not whole records; "
            f"a crash tears at most the last batch, so this is damage: restore the file from a backup "
            f"or move it aside"
        )
    logger.warning(
        "journal %s: cut a torn tail of %d bytes after record %d (a batch whose write never finished)",
        path,
        torn,
        last,
    )
    os.ftruncate(fd, end)
    return last


def _last_from_the_end(fd: int, size: int) -> int | None:
    """The last record's sequence, read backwards from its trailing length; `None` when the end
    of the file is not a whole record."""
    if size < _FILE_HEADER.size + _OVERHEAD:
        return None
    (length,) = struct.unpack("<I", os.pread(fd, 4, size - 4))
    start = size - _OVERHEAD - length
    if start < _FILE_HEADER.size:
        return None
    data = os.pread(fd, _OVERHEAD + length, start)
    stored_length, sequence = _FRAME_HEAD.unpack_from(data)
    crc, _ = _FRAME_TAIL.unpack_from(data, _FRAME_HEAD.size + length)
    if stored_length != length or zlib.crc32(memoryview(data)[: _FRAME_HEAD.size + length]) != crc:
        return None
    return int(sequence)


def _sync_directory(directory: Path) -> None:
    """Make the new file's directory entry durable (a power loss could otherwise lose the file)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
