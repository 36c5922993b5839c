"""The journal store protocol. State in memory is a fold of these records.

`append` is synchronous and cheap: it assigns the next sequence number and queues the record.
`flush` waits until everything up to a sequence number is durable by the store's durability
setting; the engine awaits it before any effect leaves the process (a venue send, an API answer).
"""

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal, Protocol

from tradewire.domain.events import JournalRecord

Durability = Literal["fsync", "os"]
"""What a returned `flush` survives: "fsync" a power loss, "os" only a crash of the process."""


class JournalStore(Protocol):
    @property
    def last_sequence(self) -> int:
        """The sequence number of the last appended record (0 when empty)."""
        ...

    @property
    def durable_sequence(self) -> int:
        """Everything up to this sequence number is durable."""
        ...

    def append(self, record: JournalRecord) -> int:
        """Queue `record` under the next sequence number and return it; never waits for the disk."""
        ...

    async def flush(self, sequence: int | None = None) -> None:
        """Wait until `sequence` (default: the last appended) is durable.

        Returns at once if it already is; raises if writing has failed.
        """
        ...

    def replay(self, after: int = 0) -> Iterator[tuple[int, JournalRecord]]:
        """Every record after `after`, in order, with its sequence number."""
        ...

    async def start(self) -> None:
        """Begin writing what is appended; `replay` works before this, `flush` needs it."""
        ...

    async def close(self) -> None:
        """Write out what is queued, then release the store."""
        ...


Entry = tuple[int, JournalRecord, bytes]
"""Sequence, record and the record as its file stores it (`JournalFile.stored_form`)."""


class JournalFile(Protocol):
    """Where a `tradewire.journal.group_commit.Journal` keeps its records: one storage backend.

    `write` is called on the event loop ("os") or on the journal's writer thread ("fsync"), never
    on both, and never concurrently; `close` is called once, after the last `write`.
    """

    @property
    def path(self) -> Path: ...

    @property
    def durability(self) -> Durability: ...

    @property
    def stored_sequence(self) -> int:
        """The last sequence number stored when the file was opened (0 when empty)."""
        ...

    def stored_form(self, sequence: int, payload: bytes) -> bytes:
        """The record encoded as `payload` (the codec's msgpack), as this file stores it under
        `sequence`. Called by `append` on the loop, so that this work is done when a record is
        appended, not in the write that a signal waits for."""
        ...

    def write(self, batch: Sequence[Entry]) -> None:
        """Store `batch` (consecutive sequences) all or nothing, durable by `durability` when this
        returns; raise on failure (the journal then writes nothing more)."""
        ...

    def replay(self, after: int) -> Iterator[tuple[int, JournalRecord]]:
        """Every stored record after `after`, in order; raises `JournalCorrupt` naming the sequence
        of an unreadable or missing record. Works before and beside writing."""
        ...

    def start_upkeep(self) -> None:
        """Start background upkeep, if the backend has any (SQLite's WAL checkpoints)."""
        ...

    def close(self, clean: bool) -> None:
        """Stop upkeep and release the file; `clean` when every write succeeded."""
        ...
