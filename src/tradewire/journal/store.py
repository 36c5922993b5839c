"""The journal store protocol. State in memory is a fold of these records.

`append` is synchronous and cheap: it assigns the next sequence number and queues the record.
`flush` waits until everything up to a sequence number is durable by the store's durability
setting; the engine awaits it before any effect leaves the process (a venue send, an API answer).
"""

from collections.abc import Iterator
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
