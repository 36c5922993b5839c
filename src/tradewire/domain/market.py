"""Top-of-book quotes, the reference for sizing, marks and risk."""

from datetime import datetime
from decimal import Decimal

import msgspec

from tradewire.domain.enums import Side
from tradewire.domain.ids import InstrumentId, VenueId


class Quote(msgspec.Struct, frozen=True, kw_only=True):
    instrument: InstrumentId
    bid: Decimal
    ask: Decimal
    bid_size: Decimal
    ask_size: Decimal
    ts_event: datetime

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2

    def touch(self, side: Side) -> Decimal:
        """The price an aggressive order on `side` would meet: the ask for a buy, the bid for a sell."""
        return self.ask if side is Side.BUY else self.bid


class QuoteBook:
    """The latest quote per venue and instrument, fed by the venues."""

    def __init__(self) -> None:
        self._quotes: dict[tuple[VenueId, InstrumentId], Quote] = {}
        self._latest: dict[InstrumentId, Quote] = {}

    def update(self, venue: VenueId, quote: Quote) -> None:
        self._quotes[(venue, quote.instrument)] = quote
        self._latest[quote.instrument] = quote

    def at(self, venue: VenueId, instrument: InstrumentId) -> Quote | None:
        return self._quotes.get((venue, instrument))

    def get(self, instrument: InstrumentId) -> Quote | None:
        """The latest quote from any venue (for valuation where the venue does not matter)."""
        return self._latest.get(instrument)

    def mark(self, instrument: InstrumentId, venue: VenueId | None = None) -> Decimal | None:
        quote = self._latest.get(instrument) if venue is None else self._quotes.get((venue, instrument))
        return quote.mid if quote is not None else None
