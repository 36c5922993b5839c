"""The paper venue's own state: orders, fills, feed position and ID counters.

`open_store(path)` picks where it lives:
- With a `path`, `SqliteStore`: the file is the venue's truth, and every `save` commits before it
  returns. The venue commits a change before it schedules the report that announces it, so whatever
  the engine was told, the venue still knows after a restart (WAL with synchronous=NORMAL: a
  committed change survives the process being killed, kill -9, which is what the crash tests
  exercise).
- Without one, `MemoryStore` (memory.py): nothing outlives the process, so there is nothing to
  commit and nothing to encode on the order path; the state is plain Python data.

Both answer the hot questions from memory: which client order IDs the venue has seen (duplicates are
rejected) and an account's position in an instrument (reduce-only checks); the working orders also
live in the client. The file-backed store reads closed orders and fills from SQLite.
"""

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import msgspec

from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId
from tradewire.domain.reports import FillReport
from tradewire.venues.paper.matching import PaperOrder
from tradewire.venues.paper.memory import MemoryStore, kept_position


class PaperStore(Protocol):
    """What the venue keeps: every order it has recorded, every fill, its counters and feed state."""

    def close(self) -> None: ...

    def next_number(self, counter: str) -> int:
        """The next number of a counter (venue order IDs, fill IDs); kept with the next save.

        A number handed out but never saved may be reused after a restart: harmless, because
        nothing that carried it left the venue (reports go out only after the save).
        """
        ...

    def save(
        self,
        orders: Iterable[PaperOrder] = (),
        fills: Iterable[FillReport] = (),
        feed_state: Mapping[str, str] | None = None,
    ) -> None:
        """Record a batch of changes (durably before it returns when the store has a file)."""
        ...

    def knows(self, client_order_id: ClientOrderId) -> bool:
        """Whether an order with this client order ID was ever recorded (open, closed or rejected)."""
        ...

    def order(self, client_order_id: ClientOrderId) -> PaperOrder | None: ...

    def open_orders(self, account: AccountId | None = None) -> list[PaperOrder]:
        """Working orders in arrival order."""
        ...

    def fills(
        self,
        since: datetime | None = None,
        account: AccountId | None = None,
        instrument: InstrumentId | None = None,
    ) -> list[FillReport]:
        """Fills in the order they were saved, optionally from `since` (inclusive) on."""
        ...

    def position(self, account: AccountId, instrument: InstrumentId) -> Decimal:
        """The account's signed position in the instrument: the sum of its fills."""
        ...

    def feed_state(self) -> dict[str, str]: ...


def open_store(path: Path | None) -> PaperStore:
    """The venue's state in the SQLite file at `path`, or in memory when there is none."""
    return MemoryStore() if path is None else SqliteStore(path)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    client_order_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    is_open INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_open ON orders (is_open, sequence);
CREATE TABLE IF NOT EXISTS fills (
    number INTEGER PRIMARY KEY,
    fill_id TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    instrument TEXT NOT NULL,
    ts_event TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS feed_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_order_encoder = msgspec.json.Encoder()
_order_decoder = msgspec.json.Decoder(PaperOrder)
_fill_decoder = msgspec.json.Decoder(FillReport)


def _timestamp(moment: datetime) -> str:
    """Fixed-width UTC text, so that comparing strings in SQL compares times."""
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class SqliteStore:
    """The venue's state in its own SQLite file: every `save` is one committed transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(str(path), isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.executescript(_SCHEMA)
        self._counters: dict[str, int] = dict(
            self._connection.execute("SELECT name, value FROM counters").fetchall()
        )
        self._counters_changed = False
        self._known: set[str] = {
            row[0] for row in self._connection.execute("SELECT client_order_id FROM orders")
        }
        """Every client order ID the venue has recorded: a second order with one is a duplicate."""
        self._positions: dict[tuple[AccountId, InstrumentId], Decimal] = {}
        """Signed positions per (account, instrument), filled in on first use, kept up to date."""

    def close(self) -> None:
        self._connection.close()

    def next_number(self, counter: str) -> int:
        value = self._counters.get(counter, 0) + 1
        self._counters[counter] = value
        self._counters_changed = True
        return value

    def save(
        self,
        orders: Iterable[PaperOrder] = (),
        fills: Iterable[FillReport] = (),
        feed_state: Mapping[str, str] | None = None,
    ) -> None:
        """Write the changes (and the counters handed out since) in one transaction and commit it."""
        order_rows = [
            (o.client_order_id, o.account, int(o.is_open), o.sequence, _order_encoder.encode(o))
            for o in orders
        ]
        fill_list = list(fills)
        if not (order_rows or fill_list or feed_state is not None or self._counters_changed):
            return
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            if order_rows:
                connection.executemany(
                    "INSERT OR REPLACE INTO orders (client_order_id, account, is_open, sequence, data)"
                    " VALUES (?, ?, ?, ?, ?)",
                    order_rows,
                )
            if fill_list:
                connection.executemany(
                    "INSERT INTO fills (fill_id, account, instrument, ts_event, data) VALUES (?, ?, ?, ?, ?)",
                    [
                        (f.fill_id, f.account, f.instrument, _timestamp(f.ts_event), msgspec.json.encode(f))
                        for f in fill_list
                    ],
                )
            if self._counters_changed:
                connection.executemany(
                    "INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)",
                    list(self._counters.items()),
                )
            if feed_state is not None:
                connection.executemany(
                    "INSERT OR REPLACE INTO feed_state (key, value) VALUES (?, ?)",
                    list(feed_state.items()),
                )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        self._counters_changed = False
        self._known.update(row[0] for row in order_rows)
        positions = self._positions
        for fill in fill_list:
            key = (fill.account, fill.instrument)
            if key in positions:
                positions[key] += fill.quantity * fill.side.sign

    def knows(self, client_order_id: ClientOrderId) -> bool:
        return client_order_id in self._known

    def order(self, client_order_id: ClientOrderId) -> PaperOrder | None:
        if client_order_id not in self._known:
            return None
        row = self._connection.execute(
            "SELECT data FROM orders WHERE client_order_id = ?", (client_order_id,)
        ).fetchone()
        return None if row is None else _order_decoder.decode(row[0])

    def open_orders(self, account: AccountId | None = None) -> list[PaperOrder]:
        sql = "SELECT data FROM orders WHERE is_open = 1"
        parameters: tuple[str, ...] = ()
        if account is not None:
            sql += " AND account = ?"
            parameters = (account,)
        rows = self._connection.execute(sql + " ORDER BY sequence", parameters).fetchall()
        return [_order_decoder.decode(row[0]) for row in rows]

    def fills(
        self,
        since: datetime | None = None,
        account: AccountId | None = None,
        instrument: InstrumentId | None = None,
    ) -> list[FillReport]:
        clauses: list[str] = []
        parameters: list[str] = []
        for clause, value in (
            ("ts_event >= ?", None if since is None else _timestamp(since)),
            ("account = ?", account),
            ("instrument = ?", instrument),
        ):
            if value is not None:
                clauses.append(clause)
                parameters.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._connection.execute(
            f"SELECT data FROM fills{where} ORDER BY number",  # noqa: S608 - fixed clauses only
            parameters,
        ).fetchall()
        return [_fill_decoder.decode(row[0]) for row in rows]

    def position(self, account: AccountId, instrument: InstrumentId) -> Decimal:
        return kept_position(self._positions, account, instrument, self.fills)

    def feed_state(self) -> dict[str, str]:
        return dict(self._connection.execute("SELECT key, value FROM feed_state").fetchall())
