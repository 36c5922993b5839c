"""The journal on the event loop: append, group commit and flush, over any `JournalFile`.

`append` encodes the record, gives it the next sequence number and buffers it in a list the loop
owns; it never touches the disk. The buffer is written as one batch, all or nothing, when someone
awaits `flush`, or else `WRITE_BEHIND_SECONDS` (1 ms) after its first record was appended (one
timer per batch), so a record never waits long for a flush nobody asks for. The window lets the
records that follow an order's send (its ack, its fills) ride in the write of the next signal's
flush instead of a write of their own: one write per order instead of two in the sequential
benchmark. Nothing is lost by the wait: every effect that leaves the process awaits `flush` first,
which writes everything appended before it, and what a crash loses of unflushed records (a
venue's report) reconciliation recovers from the venue.

Who writes a batch depends on the durability (what a record whose `flush()` has returned
survives):

- "fsync" (default): a writer thread, because the write ends in an fsync (about 150 us, and
  milliseconds on a busy disk) that must not stall the loop; `flush` awaits the thread's word that
  everything up to its sequence is durable, which survives a kill -9 of the process, an operating
  system crash and a power loss (as far as the disk honours flush requests). Under load batches
  grow by themselves, so one write (and one fsync) serves many records and many `flush` waiters.
  The loop hands over whole batches, not records: every hand-over wakes the writer, and the woken
  writer competes with the loop for the GIL.
- "os": the loop itself. A write without an fsync lands in the operating system's page cache
  (an SQLite commit of a few records about 15-25 us here, a log-file `write()` 1-5 us), cheaper
  than waking a thread and being woken back (that round trip was about 150 us of signal -> send
  latency in our benchmark), so `flush` writes the batch and returns without yielding to the loop.
  A flushed record survives a kill -9 of the process, but an operating-system crash or a power
  loss can lose the most recent writes. A write is the same class of operation as the socket send
  that follows it; what could stall the loop is another process holding the journal's file, which
  the engine's lock file rules out.

In both modes records are written in sequence order and each batch is all or nothing, so after
any crash the journal holds a gap-free prefix of what was appended. A write failure (disk full, I/O
error) is fatal: every pending and later `flush` and every later `append` raises
`JournalWriteError`, and the engine halts trading rather than run unjournaled.
"""

import asyncio
import heapq
import itertools
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Final, Self

from tradewire.domain.events import JournalRecord
from tradewire.journal.codec import encode
from tradewire.journal.errors import JournalClosedError, JournalWriteError
from tradewire.journal.store import Durability, Entry, JournalFile

WRITE_BEHIND_SECONDS: Final = 0.001
"""How long an unflushed record may wait in memory for a flush to take it along."""
_Batch = list[Entry]
"""Entries in sequence order, written at once; `None` on the writer's queue tells it to stop."""
logger = logging.getLogger(__name__)


class Journal:
    """A `JournalStore` over one `JournalFile`, used from one event loop.

    `async with journal:` starts it and closes it on the way out.
    """

    def __init__(self, file: JournalFile) -> None:
        self.file: Final = file
        self._writes_in_loop = file.durability == "os"
        """"os" writes on the loop; "fsync" hands batches to the writer thread (module docstring)."""
        self._last_sequence: int = file.stored_sequence
        self._durable_sequence: int = file.stored_sequence
        self._buffer: _Batch = []
        """Appended entries not yet written or handed to the writer; only the loop touches it."""
        self._write_behind_scheduled = False
        self._queue: queue.SimpleQueue[_Batch | None] = queue.SimpleQueue()
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._waiter_order = itertools.count()
        self._failure: BaseException | None = None
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Future[None] | None = None
        self._commit_count = 0
        self._records_written = 0

    # --- what the engine and the tests read ---

    @property
    def path(self) -> Path:
        return self.file.path

    @property
    def durability(self) -> Durability:
        return self.file.durability

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
        """Batches written by this instance (one per group commit)."""
        return self._commit_count

    @property
    def records_written(self) -> int:
        """Records written by this instance."""
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
            raise JournalClosedError(f"journal {self.path} is closed; record not appended")
        sequence = self._last_sequence + 1
        stored = self.file.stored_form(sequence, encode(record))
        self._last_sequence = sequence
        self._buffer.append((sequence, record, stored))
        if not self._write_behind_scheduled and self._loop is not None:
            self._write_behind_scheduled = True
            self._loop.call_later(WRITE_BEHIND_SECONDS, self._write_behind)
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
            self._hand_off()  # writes the buffer now
            if self._failure is not None:
                raise self._write_error()
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (target, next(self._waiter_order), future))
        self._hand_off()
        await future

    def replay(self, after: int = 0) -> Iterator[tuple[int, JournalRecord]]:
        """Every stored record after `after`, in order, with its sequence number.

        Works before `start()` and beside the writer. Raises `JournalCorrupt` naming the sequence
        number of an unreadable record or of the first missing one.
        """
        return self.file.replay(after)

    async def start(self) -> None:
        """Start writing (and the writer thread for "fsync"); what was appended before goes in the
        first write."""
        if self._loop is not None:
            return
        if self._closed:
            raise JournalClosedError(f"journal {self.path} is closed")
        self._loop = asyncio.get_running_loop()
        self._stopped = self._loop.create_future()
        if not self._writes_in_loop:
            self._thread = threading.Thread(
                target=self._run, name=f"journal-writer:{self.path.name}", daemon=True
            )
        self._hand_off()  # what was appended before start goes in the first write
        if self._thread is not None:
            self._thread.start()
        self.file.start_upkeep()

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
            self.file.close(clean=True)
            return
        self._hand_off()
        if self._thread is None:  # written on the loop: what is left was written just now
            self.file.close(clean=self._failure is None)
            self._on_stopped()
        else:
            self._queue.put(None)
            await asyncio.shield(self._stopped)
            self._thread.join()
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

    def _write_behind(self) -> None:
        """Write what nobody flushed within `WRITE_BEHIND_SECONDS` of its first record."""
        self._write_behind_scheduled = False
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
            written = self._write(batch)
        # Like the writer thread's boundary: a failed write makes the journal fatal, never silent.
        except Exception as error:
            logger.exception("journal %s: write failed; nothing more will be written", self.path)
            self._failure = error
            self._fail_waiters()
            return
        self._on_durable(written)

    def _write(self, batch: _Batch) -> int:
        """Write `batch` and return the last sequence it made durable."""
        self.file.write(batch)
        self._commit_count += 1
        self._records_written += len(batch)
        return batch[-1][0]

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
                f"journal {self.path} closed with records {self._durable_sequence + 1}.."
                f"{self._last_sequence} unwritten"
            )
        error = JournalWriteError(
            f"journal {self.path} failed: nothing after sequence {self._durable_sequence} is "
            f"durable and nothing more will be written ({self._failure})"
        )
        error.__cause__ = self._failure
        return error

    # --- the writer thread ("fsync") ---

    def _run(self) -> None:
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
                    self._notify(self._on_durable, self._write(batch))
        # The thread's boundary: whatever stops a write makes the journal fatal, never silent.
        except Exception as error:
            logger.exception("journal %s: write failed; nothing more will be written", self.path)
            self._failure = error
        finally:
            self.file.close(clean=self._failure is None)
            self._notify(self._on_stopped)

    def _notify(self, callback: Callable[..., None], *args: int) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return  # the loop is gone: nobody is left waiting
        try:
            loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:
            logger.warning("journal %s: event loop closed before the writer finished", self.path)
