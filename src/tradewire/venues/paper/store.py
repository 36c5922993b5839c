"""The paper venue's own durable state: orders, fills, feed position and ID counters, in SQLite.

With a `path` the file is the venue's truth, and every `save` commits before it returns: the venue
commits a change before it schedules the report that announces it, so whatever the engine was told,
the venue still knows after a restart (WAL with synchronous=NORMAL: a committed change survives the
process being killed, kill -9, which is what the crash tests exercise).

Without a `path` nothing outlives the process, so there is nothing to commit early: changes collect
in memory and go to an in-memory database in batches of `MEMORY_BATCH_ROWS` (or when something
reads the database). That keeps SQLite off the order path: a per-order statement was the most
expensive step of a paper order, mostly because every call releases the GIL to the journal's
writer thread and waits to get it back.

Either way the hot questions are answered from memory: which client order IDs the venue has seen
(duplicates are rejected) and an account's position in an instrument (reduce-only checks); the
working orders live in the client. Everything else (closed orders, fills) is read from SQLite.
"""

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import msgspec

from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId
from tradewire.domain.reports import FillReport
from tradewire.domain.values import ZERO
from tradewire.venues.paper.matching import PaperOrder

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

MEMORY_BATCH_ROWS = 512
"""Pending order and fill rows that make an in-memory store write them out (no `path` only)."""

_order_encoder = msgspec.json.Encoder()
_order_decoder = msgspec.json.Decoder(PaperOrder)
_fill_decoder = msgspec.json.Decoder(FillReport)


def _timestamp(moment: datetime) -> str:
    """Fixed-width UTC text, so that comparing strings in SQL compares times."""
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class PaperStore:
    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._durable = path is not None
        self._connection = sqlite3.connect(":memory:" if path is None else str(path), isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.executescript(_SCHEMA)
        self._counters: dict[str, int] = dict(
            self._connection.execute("SELECT name, value FROM counters").fetchall()
        )
        self._known: set[str] = {
            row[0] for row in self._connection.execute("SELECT client_order_id FROM orders")
        }
        """Every client order ID the venue has recorded: a second order with one is a duplicate."""
        self._positions: dict[tuple[str, str], Decimal] = {}
        """Signed positions per (account, instrument), filled in on first use, kept up to date."""
        self._pending_orders: dict[ClientOrderId, PaperOrder] = {}
        self._pending_fills: list[FillReport] = []
        self._pending_feed: Mapping[str, str] | None = None
        self._counters_changed = False

    def close(self) -> None:
        self.flush()
        self._connection.close()

    def next_number(self, counter: str) -> int:
        """The next number of a counter (venue order IDs, fill IDs); written with the next save.

        A number handed out but never saved is reused after a restart: harmless, because nothing
        that carried it left the venue (reports go out only after the save).
        """
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
        """Record a batch of changes: committed before this returns when the store has a path."""
        pending_orders = self._pending_orders
        for order in orders:
            pending_orders[order.client_order_id] = order
            self._known.add(order.client_order_id)
        positions = self._positions
        for fill in fills:
            self._pending_fills.append(fill)
            key = (fill.account, fill.instrument)
            if key in positions:
                positions[key] += fill.quantity * fill.side.sign
        if feed_state is not None:
            self._pending_feed = feed_state
        if self._durable or len(pending_orders) + len(self._pending_fills) >= MEMORY_BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write every pending change in one transaction and commit it."""
        orders, fills, feed_state = self._pending_orders, self._pending_fills, self._pending_feed
        if not (orders or fills or feed_state is not None or self._counters_changed):
            return
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            if orders:
                connection.executemany(
                    "INSERT OR REPLACE INTO orders (client_order_id, account, is_open, sequence, data)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [
                        (o.client_order_id, o.account, int(o.is_open), o.sequence, _order_encoder.encode(o))
                        for o in orders.values()
                    ],
                )
            if fills:
                connection.executemany(
                    "INSERT INTO fills (fill_id, account, instrument, ts_event, data) VALUES (?, ?, ?, ?, ?)",
                    [
                        (f.fill_id, f.account, f.instrument, _timestamp(f.ts_event), msgspec.json.encode(f))
                        for f in fills
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
        self._pending_orders = {}
        self._pending_fills = []
        self._pending_feed = None
        self._counters_changed = False

    def knows(self, client_order_id: ClientOrderId) -> bool:
        """Whether an order with this client order ID was ever recorded (open, closed or rejected)."""
        return client_order_id in self._known

    def order(self, client_order_id: ClientOrderId) -> PaperOrder | None:
        pending = self._pending_orders.get(client_order_id)
        if pending is not None or client_order_id not in self._known:
            return pending
        row = self._connection.execute(
            "SELECT data FROM orders WHERE client_order_id = ?", (client_order_id,)
        ).fetchone()
        return None if row is None else _order_decoder.decode(row[0])

    def open_orders(self, account: AccountId | None = None) -> list[PaperOrder]:
        """Working orders in arrival order."""
        self.flush()
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
        """Fills in the order they happened, optionally from `since` (inclusive) on."""
        self.flush()
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
        """The account's signed position in the instrument: the sum of its fills."""
        key = (account, instrument)
        position = self._positions.get(key)
        if position is None:
            fills = self.fills(account=account, instrument=instrument)
            position = sum((f.quantity * f.side.sign for f in fills), ZERO)
            self._positions[key] = position
        return position

    def feed_state(self) -> dict[str, str]:
        self.flush()
        return dict(self._connection.execute("SELECT key, value FROM feed_state").fetchall())
