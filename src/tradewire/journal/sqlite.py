"""The SQLite journal file: one table of records, in WAL mode (the default backend).

`sqlite_journal(path, durability)` is the engine's journal over it (`tradewire.journal.group_commit`
explains appending, group commit and flush). Each batch is one transaction. Durability maps to
SQLite's settings:

- "fsync": `PRAGMA synchronous=FULL` (and `fullfsync` on macOS): every commit fsyncs the
  write-ahead log before it returns. Commits run on the journal's writer thread.
- "os": `PRAGMA synchronous=NORMAL`: a commit is handed to the operating system, not fsynced
  (SQLite fsyncs only at checkpoints). Commits run on the loop.

A checkpoint thread copies the WAL back into the database every second (SQLite's automatic
checkpoint is off: it would add milliseconds to the commit that triggers it), and a clean close
truncates the WAL.
"""

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC
from pathlib import Path
from typing import Final

import msgspec

from tradewire.domain.events import JournalRecord
from tradewire.journal.codec import decode, record_kind
from tradewire.journal.errors import JournalCorrupt, JournalError, JournalSchemaError
from tradewire.journal.group_commit import Journal
from tradewire.journal.store import Durability, Entry

SCHEMA_VERSION: Final = 1
_SYNCHRONOUS: Final[Mapping[Durability, str]] = {"fsync": "FULL", "os": "NORMAL"}
_BUSY_TIMEOUT_SECONDS: Final = 5.0
_CHECKPOINT_INTERVAL_SECONDS: Final = 1.0
REPLAY_BATCH: Final = 1000
"""Rows fetched from SQLite at a time on replay."""
_INSERT: Final = "INSERT INTO journal (sequence, kind, ts_recorded, payload) VALUES (?, ?, ?, ?)"
logger = logging.getLogger(__name__)


def sqlite_journal(path: Path | str, durability: Durability = "fsync") -> Journal:
    """The engine's journal in the SQLite file at `path` (created if missing)."""
    return Journal(SqliteFile(path, durability))


class SqliteFile:
    """A `JournalFile` in one SQLite database: opens it, checks its schema, writes and replays."""

    def __init__(self, path: Path | str, durability: Durability = "fsync") -> None:
        if durability not in _SYNCHRONOUS:
            raise ValueError(f"durability must be 'fsync' or 'os', got {durability!r}")
        self._path = Path(path)
        self._durability: Durability = durability
        self._connection = _open_for_writing(self._path, durability)
        try:
            self.pragmas: Mapping[str, int | str] = _read_pragmas(self._connection)
            """The write connection's settings as SQLite reports them (synchronous: 2 = FULL)."""
            (stored,) = self._connection.execute("SELECT coalesce(max(sequence), 0) FROM journal").fetchone()
        except BaseException:
            self._connection.close()
            raise
        self._stored_sequence: int = stored
        self._checkpointer: threading.Thread | None = None
        self._stop_checkpoints = threading.Event()

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
        """The payload as it is: the row is made in `write`."""
        return payload

    def write(self, batch: Sequence[Entry]) -> None:
        rows = [
            (sequence, record_kind(record), record.ts_recorded.astimezone(UTC).isoformat(), payload)
            for sequence, record, payload in batch
        ]
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(_INSERT, rows)
            connection.execute("COMMIT")
        except BaseException:
            _rollback(connection)
            raise

    def replay(self, after: int = 0) -> Iterator[tuple[int, JournalRecord]]:
        """Read through a read-only connection of its own, so it works beside the writer."""
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

    def start_upkeep(self) -> None:
        if self._checkpointer is None:
            self._checkpointer = threading.Thread(
                target=self._checkpoint, name=f"journal-checkpoint:{self._path.name}", daemon=True
            )
            self._checkpointer.start()

    def close(self, clean: bool) -> None:
        """Stop checkpointing; after a clean run empty the WAL into the database; release the file."""
        self._stop_checkpoints.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
        try:
            if clean:
                with contextlib.suppress(sqlite3.Error):
                    self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            self._connection.close()

    def _checkpoint(self) -> None:
        """Copy the WAL back into the database every second, on a connection of its own.

        SQLite's automatic checkpoint would run inside a commit and add milliseconds to the commit
        that triggers it; a passive checkpoint here runs beside the writer and never blocks it.
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
