"""Where the paper venue's prices come from: a seeded random walk, or quotes replayed from a CSV file.

A feed holds the current book of every instrument it quotes and advances one step at a time. Its
`state()` is a small string map the venue persists with every step, so a reopened venue continues
from the last mid (walk) or the last replayed row (CSV) instead of starting over.
"""

import csv
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from tradewire.domain.errors import TradewireError
from tradewire.domain.ids import InstrumentId
from tradewire.domain.instruments import Instrument
from tradewire.domain.values import floor_to_step, to_decimal
from tradewire.venues.paper.catalog import SimulatedInstrument
from tradewire.venues.paper.config import PaperVenueConfig
from tradewire.venues.paper.matching import Book, Level

CSV_COLUMNS = ("ts", "instrument", "bid", "ask", "bid_size", "ask_size")


class QuoteFeed(Protocol):
    def books(self) -> dict[InstrumentId, Book]:
        """The current book of every instrument quoted so far."""
        ...

    def step(self, now: datetime) -> list[Book]:
        """Advance one step; returns the books that changed."""
        ...

    def state(self) -> dict[str, str]:
        """What to persist so that a new feed built with it continues from here."""
        ...


class _Walk:
    """One instrument's random walk, in whole ticks so every price stays on the grid."""

    def __init__(self, simulated: SimulatedInstrument, seed: int, depth: int, mid: Decimal | None) -> None:
        self.simulated = simulated
        self.depth = depth
        # A string seed is hashed with SHA-512: the same on every run and platform, and adding an
        # instrument does not change the walk of the others.
        self.rng = random.Random(f"{seed}:{simulated.instrument_id}")  # noqa: S311 - a simulation
        tick = simulated.tick_size
        start = simulated.start_price if mid is None else mid
        bid = floor_to_step(start - simulated.spread_ticks * tick / 2, tick)
        self.bid_ticks = max(1, int(bid / tick))

    def move(self) -> None:
        volatility = self.simulated.volatility_ticks
        self.bid_ticks = max(1, self.bid_ticks + self.rng.randint(-volatility, volatility))

    def book(self, now: datetime) -> Book:
        tick = self.simulated.tick_size
        ask_ticks = self.bid_ticks + self.simulated.spread_ticks
        bids = tuple(
            Level(tick * (self.bid_ticks - i), self._size())
            for i in range(self.depth)
            if self.bid_ticks - i >= 1
        )
        asks = tuple(Level(tick * (ask_ticks + i), self._size()) for i in range(self.depth))
        return Book(
            instrument=InstrumentId(self.simulated.instrument_id),
            bids=bids,
            asks=asks,
            ts_event=now,
        )

    def mid(self) -> Decimal:
        tick = self.simulated.tick_size
        return tick * self.bid_ticks + tick * self.simulated.spread_ticks / 2

    def _size(self) -> Decimal:
        return self.simulated.level_quantity * self.rng.randint(1, 5)


class RandomWalkFeed:
    """Per instrument, the mid moves by a whole number of ticks each step; deterministic per seed."""

    def __init__(
        self,
        instruments: Sequence[SimulatedInstrument],
        *,
        seed: int,
        depth: int,
        now: datetime,
        saved: Mapping[str, str],
    ) -> None:
        self._walks = [
            _Walk(simulated, seed, depth, _saved_mid(saved, simulated.instrument_id))
            for simulated in instruments
        ]
        self._books = {InstrumentId(w.simulated.instrument_id): w.book(now) for w in self._walks}

    def books(self) -> dict[InstrumentId, Book]:
        return dict(self._books)

    def step(self, now: datetime) -> list[Book]:
        changed = []
        for walk in self._walks:
            walk.move()
            book = walk.book(now)
            self._books[book.instrument] = book
            changed.append(book)
        return changed

    def state(self) -> dict[str, str]:
        return {f"mid:{w.simulated.instrument_id}": str(w.mid()) for w in self._walks}


def open_feed(
    config: PaperVenueConfig,
    instruments: Mapping[InstrumentId, Instrument],
    now: datetime,
    saved: Mapping[str, str],
) -> QuoteFeed:
    """The feed the config asks for, continuing from `saved` (what a previous feed persisted)."""
    if config.quotes_csv is not None:
        return CsvQuoteFeed(config.quotes_csv, instruments, saved)
    return RandomWalkFeed(
        config.all_instruments, seed=config.seed, depth=config.depth_levels, now=now, saved=saved
    )


def _saved_mid(saved: Mapping[str, str], instrument_id: str) -> Decimal | None:
    text = saved.get(f"mid:{instrument_id}")
    return None if text is None else Decimal(text)


class QuoteFileError(TradewireError):
    """A quotes CSV is malformed; the message names the file and line."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        super().__init__(f"{path} line {line}: {problem}")


class CsvQuoteFeed:
    """Replays top-of-book quotes from a CSV file, one timestamp's rows per step.

    Columns: ts,instrument,bid,ask,bid_size,ask_size with ISO-8601 timestamps carrying a UTC offset.
    The whole file is checked when the feed is built, so a bad row fails at start, not mid-session.
    The first timestamp's quotes are in place from the start; after the last row the books stay.
    """

    def __init__(
        self, path: Path, instruments: Mapping[InstrumentId, Instrument], saved: Mapping[str, str]
    ) -> None:
        self._groups = _group_by_time(load_quotes(path, instruments))
        self._books: dict[InstrumentId, Book] = {}
        self._applied = 0
        for _ in range(max(1, int(saved.get("csv_steps", "0")))):
            self._apply_next()

    def books(self) -> dict[InstrumentId, Book]:
        return dict(self._books)

    def step(self, now: datetime) -> list[Book]:
        return self._apply_next()

    def state(self) -> dict[str, str]:
        return {"csv_steps": str(self._applied)}

    def _apply_next(self) -> list[Book]:
        if self._applied >= len(self._groups):
            return []
        group = self._groups[self._applied]
        self._applied += 1
        for book in group:
            self._books[book.instrument] = book
        return group


def _group_by_time(books: list[Book]) -> list[list[Book]]:
    groups: list[list[Book]] = []
    for book in books:
        if groups and groups[-1][0].ts_event == book.ts_event:
            groups[-1].append(book)
        else:
            groups.append([book])
    return groups


def load_quotes(path: Path, instruments: Mapping[InstrumentId, Instrument]) -> list[Book]:
    """Every row of a quotes CSV as a one-level book; raises `QuoteFileError` naming the bad line."""
    books: list[Book] = []
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        header = next(reader, None)
        if header is None or tuple(c.strip() for c in header) != CSV_COLUMNS:
            raise QuoteFileError(path, 1, f"the header must be {','.join(CSV_COLUMNS)}")
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            book = _parse_row(path, reader.line_num, row, instruments)
            if books and book.ts_event < books[-1].ts_event:
                raise QuoteFileError(path, reader.line_num, "timestamps go backwards")
            books.append(book)
    return books


def _parse_row(path: Path, line: int, row: list[str], instruments: Mapping[InstrumentId, Instrument]) -> Book:
    if len(row) != len(CSV_COLUMNS):
        raise QuoteFileError(path, line, f"expected {len(CSV_COLUMNS)} columns, got {len(row)}")
    ts_text, instrument_text, *numbers = (cell.strip() for cell in row)
    try:
        ts = datetime.fromisoformat(ts_text)
    except ValueError:
        raise QuoteFileError(path, line, f"ts {ts_text!r} is not an ISO-8601 time") from None
    if ts.tzinfo is None:
        raise QuoteFileError(path, line, f"ts {ts_text!r} has no UTC offset")
    instrument = instruments.get(InstrumentId(instrument_text))
    if instrument is None:
        raise QuoteFileError(path, line, f"unknown instrument {instrument_text!r}")
    values: list[Decimal] = []
    for name, text in zip(CSV_COLUMNS[2:], numbers, strict=True):
        try:
            value = to_decimal(text)
        except ValueError:
            raise QuoteFileError(path, line, f"{name} {text!r} is not a number") from None
        if value <= 0:
            raise QuoteFileError(path, line, f"{name} {text!r} must be positive")
        values.append(value)
    bid, ask, bid_size, ask_size = values
    for name, price in (("bid", bid), ("ask", ask)):
        if not instrument.is_on_tick(price):
            raise QuoteFileError(path, line, f"{name} {price} is not on the tick size")
    if bid >= ask:
        raise QuoteFileError(path, line, f"bid {bid} is not below ask {ask}")
    return Book(
        instrument=instrument.instrument_id,
        bids=(Level(bid, bid_size),),
        asks=(Level(ask, ask_size),),
        ts_event=ts.astimezone(UTC),
    )
