"""The log-file journal: records appended to one file through a memory map (`journal.backend = "log"`).

`log_journal(path, durability)` is the engine's journal over it (`tradewire.journal.group_commit`
explains appending, group commit and flush). It exists for speed: writing a batch is a copy into
a shared memory map of the file (under 1 us here), where a `write()` system call of the same bytes
takes 1-10 us and an SQLite commit 15-25 us with a p99 near 100 us, and that write sits on the
signal -> venue send path. SQLite stays the default for what it gives besides: a file any SQLite
tool can query.

The file is an 8-byte header (`TWJL`, format version, reserved) followed by one frame per record:

    length u32 | sequence u64 | payload (the codec's msgpack, `length` bytes) | crc32 u32 | length u32

little-endian, the CRC over everything before it in the frame (length, sequence, payload). The
trailing length lets opening find the last record from the end of the file instead of reading it
all. A record's frame is made when it is appended (`stored_form`), so a write only copies.

Space: the writer reserves `RESERVE_BYTES` at a time past the last record (`posix_fallocate`, so
the disk blocks exist before they are written and a full disk is an error when the file grows,
not a `SIGBUS` in the middle of a copy) and maps the reserved part. The reserved space is zeros
until written; a clean close cuts it off, and after a crash opening does. A record's length is
never 0, so zeros are never mistaken for a record.

Durability: "os" copies the batch into the map and returns: the bytes are then in the operating
system's page cache, the same place a `write()` puts them, so a kill -9 of the process loses
nothing written. "fsync" copies and then `msync`s the pages it wrote (on the journal's writer
thread), which on Linux syncs that range of the file like `fdatasync`.

A crash can leave the last batch partly written (a torn tail). Opening cuts a torn tail off, after
the last whole record, and says so in the log: those records were never durable, since a batch is
durable only once its write (and sync) returned. Damage is not cut: non-zero bytes after the last
whole record longer than `TORN_TAIL_LIMIT`, or a whole record with a wrong CRC met on replay, raise
`JournalCorrupt` naming the sequence, and the engine refuses to start.
"""

import errno
import logging
import mmap
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
RESERVE_BYTES: Final = 16 * 1024 * 1024
"""How far past the last record the file is reserved and mapped, and how much it grows at a time
(about 25,000 filled orders of five records); growing is the only write that calls the disk."""
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
            self._stored_sequence, self._end = _recover_end(self._fd, self._path)
        except BaseException:
            os.close(self._fd)
            raise
        self._map: mmap.mmap | None = None
        """The reserved part of the file, mapped from `_map_start` to `_reserved`; made by the
        first write, so opening a journal only to read it changes nothing but a torn tail."""
        self._map_start = self._reserved = self._end
        self._last_written = self._stored_sequence

    @property
    def path(self) -> Path:
        return self._path

    @property
    def durability(self) -> Durability:
        return self._durability

    @property
    def stored_sequence(self) -> int:
        return self._stored_sequence

    def stored_form(self, sequence: int, payload: bytes) -> bytes:
        """The record's frame."""
        return frame(sequence, payload)

    def write(self, batch: Sequence[Entry]) -> None:
        data = b"".join([stored for _, _, stored in batch])
        end = self._end + len(data)
        mapped = self._map
        if mapped is None or end > self._reserved:
            mapped = self._reserve(len(data))
        start = self._end - self._map_start
        mapped[start : start + len(data)] = data
        if self._durability == "fsync":
            page = start - start % mmap.PAGESIZE
            mapped.flush(page, start + len(data) - page)
        self._end = end
        self._last_written = batch[-1][0]

    def replay(self, after: int = 0) -> Iterator[tuple[int, JournalRecord]]:
        """Read through a file object of its own, so it works beside the writer; reads up to the
        end of the last record written when it starts."""
        end, last = self._end, self._last_written
        with self._path.open("rb") as file:
            _check_header(file.read(_FILE_HEADER.size), self._path)
            expected = 1
            for sequence, payload in read_frames(file, self._path, end):
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
        if expected <= last:
            raise JournalCorrupt(f"journal {self._path}: record {expected} is missing (zeros where it was)")

    def start_upkeep(self) -> None:
        """Nothing to keep up: the file only grows."""

    def close(self, clean: bool) -> None:
        """Unmap and cut the reserved space off (after a failed write too: what was written is
        whole records up to `_end`)."""
        try:
            if self._map is not None:
                self._map.close()
                self._map = None
                os.ftruncate(self._fd, self._end)
                if self._durability == "fsync":
                    _sync(self._fd)
        finally:
            os.close(self._fd)

    def _reserve(self, needed: int) -> mmap.mmap:
        """Grow the file to hold `needed` more bytes plus `RESERVE_BYTES`, and map the new part."""
        granularity = mmap.ALLOCATIONGRANULARITY
        start = self._end - self._end % granularity
        reserved = self._end + needed + RESERVE_BYTES
        reserved += -reserved % granularity
        _allocate(self._fd, self._reserved, reserved)
        if self._durability == "fsync":
            _sync(self._fd)  # the new size, so a power loss cannot shorten what later syncs wrote
        if self._map is not None:
            self._map.close()
            self._map = None
        self._map = mmap.mmap(self._fd, reserved - start, offset=start)
        self._map_start, self._reserved = start, reserved
        return self._map


def _allocate(fd: int, start: int, end: int) -> None:
    """Make the file `end` bytes long with disk blocks behind `start..end`; raises `OSError`
    (ENOSPC on a full disk) instead of leaving a hole whose first write would `SIGBUS`, and then
    leaves the file `start` bytes long."""
    try:
        os.ftruncate(fd, end)
        try:
            os.posix_fallocate(fd, start, end - start)
        except AttributeError:  # macOS has no posix_fallocate
            _write_zeros(fd, start, end)
        except OSError as error:
            if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise
            _write_zeros(fd, start, end)  # a file system without fallocate
    except OSError:
        os.ftruncate(fd, start)
        raise


def _write_zeros(fd: int, start: int, end: int) -> None:
    zeros = bytes(min(end - start, 1024 * 1024))
    while start < end:
        start += os.pwrite(fd, zeros[: end - start], start)


def read_frames(file: BinaryIO, path: Path, limit: int | None = None) -> Iterator[tuple[int, memoryview]]:
    """(sequence, payload) of every whole record from the file's position up to offset `limit`
    (default: the end of the file); stops quietly at an incomplete record at the end (a torn tail,
    or one being written) and at a length of 0 (reserved space), and raises `JournalCorrupt` for a
    whole record whose CRC or trailing length is wrong."""
    buffer = b""
    view = memoryview(buffer)
    position = 0
    previous = 0
    left = None if limit is None else max(0, limit - file.tell())
    head_size, overhead = _FRAME_HEAD.size, _OVERHEAD
    unpack_head, unpack_tail, crc32 = _FRAME_HEAD.unpack_from, _FRAME_TAIL.unpack_from, zlib.crc32
    while True:
        if len(buffer) - position >= head_size:
            length, sequence = unpack_head(buffer, position)
            if not length:
                return
            body_end = position + head_size + length
            if body_end + _FRAME_TAIL.size <= len(buffer):
                crc, trailing = unpack_tail(buffer, body_end)
                if trailing != length or crc32(view[position:body_end]) != crc:
                    raise JournalCorrupt(f"journal {path}: the record after {previous} is damaged (checksum)")
                previous = sequence
                yield sequence, view[position + head_size : body_end]
                position = body_end + overhead - head_size
                continue
        chunk = _READ_CHUNK if left is None else min(_READ_CHUNK, left)  # a damaged length must not
        more = file.read(chunk) if chunk else b""  # size an allocation
        if not more:
            return
        if left is not None:
            left -= len(more)
        buffer = buffer[position:] + more
        view = memoryview(buffer)
        position = 0


def _open_for_writing(path: Path, durability: Durability) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as error:
        raise JournalError(f"cannot open journal {path}: {error}") from error
    try:
        size = os.fstat(fd).st_size
        header = _FILE_HEADER.pack(MAGIC, FORMAT_VERSION, 0)
        if size < len(header) and header.startswith(os.pread(fd, size, 0)):
            os.ftruncate(fd, 0)  # new, or a crash while it was being created
            os.pwrite(fd, header, 0)
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


def _recover_end(fd: int, path: Path) -> tuple[int, int]:
    """The last stored sequence and the offset after it; cuts off the file what follows: the
    zeros of reserved space, and a torn tail (saying so)."""
    size = os.fstat(fd).st_size
    data_end = _data_end(fd, size)
    last, end = 0, _FILE_HEADER.size
    if data_end > end:
        found = _last_at_the_end(fd, data_end, size)
        if found is not None:
            last, end = found
        else:
            last, end = _last_from_the_start(path, data_end)
    torn = max(0, data_end - end)  # `data_end` is short of `end` by the trailing length's zeros
    if torn > TORN_TAIL_LIMIT:
        raise JournalCorrupt(
            f"journal {path}: {torn} bytes after record {last} (offset {end}) are not whole records; "
            f"a crash tears at most the last batch, so this is damage: restore the file from a backup "
            f"or move it aside"
        )
    if torn:
        logger.warning(
            "journal %s: cut a torn tail of %d bytes after record %d (a batch whose write never finished)",
            path,
            torn,
            last,
        )
    if end < size:
        os.ftruncate(fd, end)
    return last, end


def _data_end(fd: int, size: int) -> int:
    """The offset after the last byte that is not 0 (reserved space is zeros), at least the header's."""
    position = size
    while position > _FILE_HEADER.size:
        start = max(_FILE_HEADER.size, position - _READ_CHUNK)
        kept = os.pread(fd, position - start, start).rstrip(b"\0")
        if kept:
            return start + len(kept)
        position = start
    return _FILE_HEADER.size


def _last_at_the_end(fd: int, data_end: int, size: int) -> tuple[int, int] | None:
    """The last record's sequence and end when the data ends with a whole record. Its trailing
    length's high bytes may be zeros, so the record ends up to 3 bytes after `data_end`."""
    for end in range(data_end, min(data_end + 3, size) + 1):
        last = _last_from_the_end(fd, end)
        if last is not None:
            return last, end
    return None


def _last_from_the_start(path: Path, data_end: int) -> tuple[int, int]:
    """The last whole record's sequence and end, reading the file from the start (a torn end)."""
    last, end = 0, _FILE_HEADER.size
    with path.open("rb") as file:
        file.seek(_FILE_HEADER.size)
        try:
            for sequence, payload in read_frames(file, path, data_end):
                last, end = sequence, end + _OVERHEAD + len(payload)
        except JournalCorrupt:
            pass  # damage after `end`: measured by the caller
    return last, end


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
