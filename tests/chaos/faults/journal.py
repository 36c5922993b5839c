"""A journal that can die like a killed process: what was appended but never flushed may be lost.

The engine's promise is only that a record whose `flush()` returned is durable. A real SQLite
journal usually writes appended records within microseconds, so a kill -9 loses at most a short
tail; this double makes that tail as long as it can be (everything since the last flush) and keeps
a seeded random prefix of it, so the harness tests the promise itself, not the writer's speed.
"""

import random
from collections.abc import Iterator

from tradewire.domain.events import JournalRecord
from tradewire.journal.errors import JournalClosedError
from tradewire.journal.group_commit import Journal


class CrashableJournal:
    """A `JournalStore` over a `Journal` that holds appends until a `flush` asks for them."""

    def __init__(self, inner: Journal) -> None:
        self.inner = inner
        self._pending: list[JournalRecord] = []
        self.crashed = False
        self.lost = 0
        """Records appended but lost in the crash."""

    @property
    def last_sequence(self) -> int:
        return self.inner.last_sequence + len(self._pending)

    @property
    def durable_sequence(self) -> int:
        return self.inner.durable_sequence

    def append(self, record: JournalRecord) -> int:
        if self.crashed:
            raise JournalClosedError("the engine crashed: nothing more is journaled")
        self._pending.append(record)
        return self.last_sequence

    async def flush(self, sequence: int | None = None) -> None:
        if self.crashed:
            raise JournalClosedError("the engine crashed: nothing more is journaled")
        target = self.last_sequence if sequence is None else sequence
        self._forward(target - self.inner.last_sequence)
        await self.inner.flush(target)

    def replay(self, after: int = 0) -> Iterator[tuple[int, JournalRecord]]:
        return self.inner.replay(after)

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        if not self.crashed:
            self._forward(len(self._pending))
        await self.inner.close()

    def crash(self, chance: random.Random) -> None:
        """Die now: keep a random prefix of what was never flushed, lose the rest."""
        if self.crashed:
            return
        keep = chance.randint(0, len(self._pending))
        self.lost = len(self._pending) - keep
        self._forward(keep)
        self._pending.clear()
        self.crashed = True

    def _forward(self, count: int) -> None:
        for record in self._pending[:count]:
            self.inner.append(record)
        del self._pending[:count]
