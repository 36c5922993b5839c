"""Journal errors, grouped by how the engine handles them.

`JournalWriteError` means records can no longer be made durable: the engine halts trading rather
than run unjournaled. `JournalCorrupt` and `JournalSchemaError` are found while opening or
replaying; they need a human, and the engine refuses to start.
"""

from tradewire.domain.errors import TradewireError


class JournalError(TradewireError):
    """Base for every journal failure; also raised when a journal file cannot be opened."""


class JournalWriteError(JournalError):
    """A record could not be made durable (disk full, I/O error). Fatal for this journal."""


class JournalClosedError(JournalWriteError):
    """The journal was closed; a record appended now would never be written."""


class JournalCorrupt(JournalError):
    """What is stored cannot be read back: an undecodable payload or a gap in the sequence."""


class JournalSchemaError(JournalError):
    """The file was written by a newer Tradewire (or is not a journal this version understands)."""
