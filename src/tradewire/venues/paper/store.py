"""The paper venue's own durable state: orders, fills, feed position and ID counters, in SQLite.

WAL with synchronous=NORMAL: a committed change survives the process being killed (kill -9), which
is the failure the crash tests exercise. The venue commits every change before it schedules the
report that announces it, so whatever the engine was told, the venue still knows after a restart.
One connection, synchronous calls: the writes are a few small rows per order or step.
"""

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId
from tradewire.domain.reports import FillReport
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
        self._connection = sqlite3.connect(":memory:" if path is None else str(path), isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.executescript(_SCHEMA)
        self._counters: dict[str, int] = dict(
            self._connection.execute("SELECT name, value FROM counters").fetchall()
        )

    def close(self) -> None:
        self._connection.close()

    def next_number(self, counter: str) -> int:
        """The next number of a counter (venue order IDs, fill IDs); written with the next save.

        A number handed out but never saved is reused after a restart: harmless, because nothing
        that carried it left the venue (reports go out only after the save).
        """
        value = self._counters.get(counter, 0) + 1
        self._counters[counter] = value
        return value

    def save(
        self,
        orders: Iterable[PaperOrder] = (),
        fills: Iterable[FillReport] = (),
        feed_state: Mapping[str, str] | None = None,
    ) -> None:
        """Write a batch of changes in one transaction and commit it."""
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(
                "INSERT OR REPLACE INTO orders (client_order_id, account, is_open, sequence, data)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    (o.client_order_id, o.account, int(o.is_open), o.sequence, _order_encoder.encode(o))
                    for o in orders
                ],
            )
            connection.executemany(
                "INSERT INTO fills (fill_id, account, instrument, ts_event, data) VALUES (?, ?, ?, ?, ?)",
                [
                    (f.fill_id, f.account, f.instrument, _timestamp(f.ts_event), msgspec.json.encode(f))
                    for f in fills
                ],
            )
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

    def order(self, client_order_id: ClientOrderId) -> PaperOrder | None:
        row = self._connection.execute(
            "SELECT data FROM orders WHERE client_order_id = ?", (client_order_id,)
        ).fetchone()
        return None if row is None else _order_decoder.decode(row[0])

    def open_orders(self, account: AccountId | None = None) -> list[PaperOrder]:
        """Working orders in arrival order."""
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

    def feed_state(self) -> dict[str, str]:
        return dict(self._connection.execute("SELECT key, value FROM feed_state").fetchall())
