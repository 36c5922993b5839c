"""The SQLite journal: append on the event loop, group commit where the durability needs it.

`append` encodes the record, gives it the next sequence number and buffers it in a list the loop
owns; it never touches the disk. The buffer is written as one batch, in one transaction, when
someone awaits `flush`, or else at the end of the loop turn in which its first record was appended
(one `call_soon` per batch), so a record never waits for a flush nobody asks for. Who writes the
batch depends on the durability:

- "fsync": a writer thread. A commit waits for an fsync of the WAL (about 150 us, milliseconds on
  a busy disk), which must not stall the loop, so the batch is handed to the thread; `flush` awaits
  the thread's word that everything up to its sequence is durable. Under load batches grow by
  themselves, so one commit (and one fsync) serves many records and many `flush` waiters. Handing
  over per batch rather than per record matters: every hand-over wakes the writer, and the woken
  writer competes with the loop for the GIL.
- "os": the loop itself. A commit without an fsync is a `write()` into the operating system's page
  cache (about 15 us here, median, for a batch of two records), cheaper than waking a thread and
  being woken back (about 150 us of signal -> send latency in our benchmark), so `flush` writes the
  batch and returns without yielding to the loop. A write is the same class of operation as the
  socket send that follows it; what could stall the loop is another process holding the journal's
  write lock, which the engine's lock file rules out.

Durability (what a record whose `flush()` has returned survives):

- "fsync" (default): SQLite in WAL mode with `PRAGMA synchronous=FULL` (and `fullfsync` on
  macOS). Every group commit fsyncs the write-ahead log before `flush()` returns, so a flushed
  record survives a kill -9 of the process, an operating-system crash and a power loss (as far as
  the disk honours flush requests).
- "os": WAL mode with `PRAGMA synchronous=NORMAL`. Every group commit is handed to the operating
  system before `flush()` returns but is not fsynced (SQLite fsyncs only at checkpoints), so a
  flushed record survives a kill -9 of the process, but an operating-system crash or a power loss
  can lose the most recent commits.

In both modes a commit is all or nothing and records are committed in sequence order, so after any
crash the journal holds a gap-free prefix of what was appended, never a partial record. A write
failure (disk full, I/O error) is fatal: every pending and later `flush` and every later `append`
raises `JournalWriteError`, and the engine halts trading rather than run unjournaled.
"""

import asyncio
import contextlib
import heapq
import itertools
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC
from pathlib import Path
from types import TracebackType
from typing import Final, Self

import msgspec

from tradewire.domain.events import JournalRecord
from tradewire.journal.codec import decode, encode, record_kind
from tradewire.journal.errors import (
    JournalClosedError,
    JournalCorrupt,
    JournalError,
    JournalSchemaError,
    JournalWriteError,
)
from tradewire.journal.store import Durability

SCHEMA_VERSION: Final = 1
_SYNCHRONOUS: Final[Mapping[Durability, str]] = {"fsync": "FULL", "os": "NORMAL"}
_BUSY_TIMEOUT_SECONDS: Final = 5.0
_CHECKPOINT_INTERVAL_SECONDS: Final = 1.0
REPLAY_BATCH: Final = 1000
"""Rows fetched from SQLite at a time on replay."""
_INSERT: Final = "INSERT INTO journal (sequence, kind, ts_recorded, payload) VALUES (?, ?, ?, ?)"
_Entry = tuple[int, JournalRecord, bytes]
"""Sequence, record and its encoded payload."""
_Batch = list[_Entry]
"""Entries in sequence order, handed to the writer at once; `None` on the queue tells it to stop."""
logger = logging.getLogger(__name__)


class SqliteJournal:
    """A `JournalStore` in one SQLite file, used from one event loop.

    `async with SqliteJournal(path) as journal:` starts the writer and closes it on the way out.
    """

    def __init__(self, path: Path | str, durability: Durability = "fsync") -> None:
        if durability not in _SYNCHRONOUS:
            raise ValueError(f"durability must be 'fsync' or 'os', got {durability!r}")
        self._path = Path(path)
        self._durability: Durability = durability
        self._writes_in_loop = durability == "os"
        """"os" commits on the loop; "fsync" hands batches to the writer thread (module docstring)."""
        self._connection = _open_for_writing(self._path, durability)
        try:
            self.pragmas: Mapping[str, int | str] = _read_pragmas(self._connection)
            """The write connection's settings as SQLite reports them (synchronous: 2 = FULL)."""
            (stored,) = self._connection.execute("SELECT coalesce(max(sequence), 0) FROM journal").fetchone()
        except BaseException:
            self._connection.close()
            raise
        self._last_sequence: int = stored
        self._durable_sequence: int = stored
        self._buffer: _Batch = []
        """Appended entries not yet handed to the writer; only the loop touches it."""
        self._hand_off_scheduled = False
        self._queue: queue.SimpleQueue[_Batch | None] = queue.SimpleQueue()
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._waiter_order = itertools.count()
        self._failure: BaseException | None = None
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._checkpointer: threading.Thread | None = None
        self._stop_checkpoints = threading.Event()
        self._stopped: asyncio.Future[None] | None = None
        self._commit_count = 0
        self._records_written = 0

    # --- what the engine and the tests read ---

    @property
    def path(self) -> Path:
        return self._path

    @property
    def durability(self) -> Durability:
        return self._durability

    @property
    def last_sequence(self) -> int:
        """The sequence number of the last appended record (0 when empty)."""
        return self._last_sequence

    @property
    def durable_sequence(self) -> int:
        """Everything up to this sequence number is durable."""
        return self._durable_sequence

    @property
    def commit_count(self) -> int:
        """Transactions committed by this instance (one per group commit)."""
        return self._commit_count

    @property
    def records_written(self) -> int:
        """Records committed by this instance."""
        return self._records_written

    # --- the loop side ---

    def append(self, record: JournalRecord) -> int:
        """Buffer `record` under the next sequence number and return it; never waits for the disk.

        Raises `JournalWriteError` once writing has failed and `JournalClosedError` after `close`,
        so nothing is ever acted on that the journal will not hold. An unencodable record raises
        `ValueError` or `TypeError` and takes no sequence number.
        """
        if self._failure is not None:
            raise self._write_error()
        if self._closed:
            raise JournalClosedError(f"journal {self._path} is closed; record not appended")
        payload = encode(record)
        sequence = self._last_sequence + 1
        self._last_sequence = sequence
        self._buffer.append((sequence, record, payload))
        if not self._hand_off_scheduled and self._loop is not None:
            self._hand_off_scheduled = True
            self._loop.call_soon(self._end_of_turn)
        return sequence

    async def flush(self, sequence: int | None = None) -> None:
        """Wait until `sequence` (default: the last appended) is durable.

        Returns at once if it already is; raises `JournalWriteError` once writing has failed.
        """
        target = self._last_sequence if sequence is None else sequence
        if self._failure is not None:
            raise self._write_error()
        if target <= self._durable_sequence:
            return
        if target > self._last_sequence:
            raise ValueError(f"cannot flush sequence {target}: only {self._last_sequence} appended")
        if self._loop is None:
            raise RuntimeError("start() the journal before waiting on flush()")
        if self._stopped is not None and self._stopped.done():
            raise self._write_error()
        if self._writes_in_loop:
            self._hand_off()  # writes and commits the buffer now
            if self._failure is not None:
                raise self._write_error()
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (target, next(self._waiter_order), future))
        self._hand_off()
        await future

    def replay(self, after: int = 0) -> Iterator[tuple[int, JournalRecord]]:
        """Every stored record after `after`, in order, with its sequence number.

        Reads through its own read-only connection, so it works before `start()` and beside the
        writer. Raises `JournalCorrupt` naming the sequence number of an undecodable record or of
        the first missing one.
        """
        connection = sqlite3.connect(
            f"{self._path.resolve().as_uri()}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_SECONDS
        )
        try:
            # Only what the fold needs: a million rows each build a tuple, so every column counts.
            rows = connection.execute(
                "SELECT sequence, payload FROM journal WHERE sequence > ? ORDER BY sequence", (after,)
            )
            rows.arraysize = REPLAY_BATCH
            expected = max(after, 0) + 1
            while batch := rows.fetchmany():
                for sequence, payload in batch:
                    if sequence != expected:
                        raise JournalCorrupt(
                            f"journal {self._path}: record {expected} is missing (next stored: {sequence})"
                        )
                    try:
                        record = decode(payload)
                    except msgspec.DecodeError as error:
                        raise JournalCorrupt(
                            f"journal {self._path}: record {sequence} ({_kind_of(connection, sequence)})"
                            f" cannot be decoded: {error}"
                        ) from error
                    yield sequence, record
                    expected += 1
        finally:
            connection.close()

    async def start(self) -> None:
        """Start writing (and the writer thread for "fsync"); what was appended before goes in the
        first commit."""
        if self._loop is not None:
            return
        if self._closed:
            raise JournalClosedError(f"journal {self._path} is closed")
        self._loop = asyncio.get_running_loop()
        self._stopped = self._loop.create_future()
        if not self._writes_in_loop:
            self._thread = threading.Thread(
                target=self._run, name=f"journal-writer:{self._path.name}", daemon=True
            )
        self._hand_off()  # what was appended before start goes in the first commit
        if self._thread is not None:
            self._thread.start()
        self._checkpointer = threading.Thread(
            target=self._checkpoint, name=f"journal-checkpoint:{self._path.name}", daemon=True
        )
        self._checkpointer.start()

    async def close(self) -> None:
        """Write out what is queued, stop the writer and release the file. Idempotent.

        Raises `JournalWriteError` (once) if appended records could not be written.
        """
        if self._closed:
            if self._stopped is not None:
                await asyncio.shield(self._stopped)
            return
        if self._loop is None and self._last_sequence > self._durable_sequence and self._failure is None:
            await self.start()
        self._closed = True
        if self._loop is None or self._stopped is None:
            self._connection.close()
            return
        self._hand_off()
        if self._thread is None:  # written on the loop: what is left was written just now
            self._finish_writing(self._connection)
            self._on_stopped()
        else:
            self._queue.put(None)
            await asyncio.shield(self._stopped)
            self._thread.join()
        self._stop_checkpoints.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
        self._fail_waiters()
        if self._last_sequence > self._durable_sequence:
            raise self._write_error()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def _end_of_turn(self) -> None:
        """Hand over the batch whose first record was appended in this loop turn."""
        self._hand_off_scheduled = False
        self._hand_off()

    def _hand_off(self) -> None:
        """Write everything buffered as one batch: now on the loop ("os"), or by handing it to the
        writer thread ("fsync"), after which the loop never touches it again."""
        if not self._buffer or self._loop is None:
            return  # nothing to write, or not started: `start` writes what was appended before
        batch, self._buffer = self._buffer, []
        if self._thread is not None:
            self._queue.put(batch)
            return
        if self._failure is not None:
            return  # nothing more is written; flush and append raise
        try:
            written = self._write(self._connection, batch)
        # Like the writer thread's boundary: a failed write makes the journal fatal, never silent.
        except Exception as error:
            logger.exception("journal %s: write failed; nothing more will be written", self._path)
            self._failure = error
            self._fail_waiters()
            return
        self._on_durable(written)

    def _on_durable(self, sequence: int) -> None:
        self._durable_sequence = sequence
        waiters = self._waiters
        while waiters and waiters[0][0] <= sequence:
            future = heapq.heappop(waiters)[2]
            if not future.done():
                future.set_result(None)

    def _fail_waiters(self) -> None:
        while self._waiters:
            future = heapq.heappop(self._waiters)[2]
            if not future.done():
                future.set_exception(self._write_error())

    def _on_stopped(self) -> None:
        self._fail_waiters()
        if self._stopped is not None and not self._stopped.done():
            self._stopped.set_result(None)

    def _write_error(self) -> JournalWriteError:
        if self._failure is None:
            return JournalClosedError(
                f"journal {self._path} closed with records {self._durable_sequence + 1}.."
                f"{self._last_sequence} unwritten"
            )
        error = JournalWriteError(
            f"journal {self._path} failed: nothing after sequence {self._durable_sequence} is "
            f"durable and nothing more will be written ({self._failure})"
        )
        error.__cause__ = self._failure
        return error

    # --- the checkpoint thread ---

    def _checkpoint(self) -> None:
        """Copy the WAL back into the database every second, on a connection of its own.

        SQLite's automatic checkpoint would run inside a group commit on the writer thread and add
        milliseconds to the commit that triggers it; a passive checkpoint here runs beside the
        writer and never blocks it. The writer truncates the WAL when it closes.
        """
        try:
            connection = sqlite3.connect(self._path, isolation_level=None, timeout=_BUSY_TIMEOUT_SECONDS)
        except sqlite3.Error:
            logger.exception("journal %s: no checkpoint connection; the WAL grows until close", self._path)
            return
        try:
            while not self._stop_checkpoints.wait(_CHECKPOINT_INTERVAL_SECONDS):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as error:  # busy or I/O: the next round tries again
                    logger.warning("journal %s: checkpoint failed: %s", self._path, error)
        finally:
            connection.close()

    # --- the writer thread ---

    def _run(self) -> None:
        connection = self._connection
        try:
            stopping = False
            while not stopping:
                batch: _Batch = []
                item = self._queue.get()
                while True:
                    if item is None:
                        stopping = True
                    else:
                        batch += item
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                if batch:
                    self._notify(self._on_durable, self._write(connection, batch))
        # The thread's boundary: whatever stops a write makes the journal fatal, never silent.
        except Exception as error:
            logger.exception("journal %s: write failed; nothing more will be written", self._path)
            self._failure = error
        finally:
            self._finish_writing(connection)
            self._notify(self._on_stopped)

    def _finish_writing(self, connection: sqlite3.Connection) -> None:
        """Empty the WAL into the database (after a clean run) and release the file."""
        try:
            if self._failure is None:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            connection.close()

    def _write(self, connection: sqlite3.Connection, batch: _Batch) -> int:
        """Write `batch` in one transaction and return the last sequence it made durable."""
        rows = [
            (sequence, record_kind(record), record.ts_recorded.astimezone(UTC).isoformat(), payload)
            for sequence, record, payload in batch
        ]
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(_INSERT, rows)
            connection.execute("COMMIT")
        except BaseException:
            _rollback(connection)
            raise
        self._commit_count += 1
        self._records_written += len(rows)
        return batch[-1][0]

    def _notify(self, callback: Callable[..., None], *args: int) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return  # the loop is gone: nobody is left waiting
        try:
            loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:
            logger.warning("journal %s: event loop closed before the writer finished", self._path)


def _open_for_writing(path: Path, durability: Durability) -> sqlite3.Connection:
    """Open (creating if needed) the journal file, check its schema and configure durability."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=_BUSY_TIMEOUT_SECONDS
        )
    except sqlite3.Error as error:
        raise JournalError(f"cannot open journal {path}: {error}") from error
    try:
        (mode,) = connection.execute("PRAGMA journal_mode=WAL").fetchone()
        if mode != "wal":
            raise JournalError(f"journal {path}: SQLite refused WAL mode (got {mode!r})")
        connection.execute(f"PRAGMA synchronous={_SYNCHRONOUS[durability]}")
        full = "ON" if durability == "fsync" else "OFF"
        connection.execute(f"PRAGMA fullfsync={full}")
        connection.execute(f"PRAGMA checkpoint_fullfsync={full}")
        connection.execute(
            "PRAGMA wal_autocheckpoint=0"
        )  # the checkpoint thread does it, off the commit path
        _ensure_schema(connection, path)
    except sqlite3.Error as error:
        connection.close()
        raise JournalError(f"cannot open journal {path}: {error}") from error
    except BaseException:
        connection.close()
        raise
    return connection


def _ensure_schema(connection: sqlite3.Connection, path: Path) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            connection.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        elif not row[0].isdigit() or int(row[0]) > SCHEMA_VERSION:
            raise JournalSchemaError(
                f"journal {path} has schema version {row[0]!r}; this Tradewire reads up to "
                f"{SCHEMA_VERSION}. Open it with the Tradewire version that wrote it."
            )
        connection.execute(
            "CREATE TABLE IF NOT EXISTS journal (sequence INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
            " ts_recorded TEXT NOT NULL, payload BLOB NOT NULL)"
        )
        connection.execute("COMMIT")
    except BaseException:
        _rollback(connection)
        raise


def _kind_of(connection: sqlite3.Connection, sequence: int) -> str:
    """The stored type tag of a record, read only to name an undecodable one."""
    (kind,) = connection.execute("SELECT kind FROM journal WHERE sequence = ?", (sequence,)).fetchone()
    return str(kind)


def _rollback(connection: sqlite3.Connection) -> None:
    """Undo an open transaction; the error that brought us here is the one worth reporting."""
    if connection.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")


def _read_pragmas(connection: sqlite3.Connection) -> dict[str, int | str]:
    names = ("journal_mode", "synchronous", "fullfsync", "checkpoint_fullfsync")
    return {name: connection.execute(f"PRAGMA {name}").fetchone()[0] for name in names}
