"""Top-of-book quotes, the reference for sizing, marks and risk."""

from datetime import datetime
from decimal import Decimal

import msgspec

from tradewire.domain.enums import Side
from tradewire.domain.ids import InstrumentId


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
    """The latest quote per instrument, fed by the venues."""

    def __init__(self) -> None:
        self._quotes: dict[InstrumentId, Quote] = {}

    def update(self, quote: Quote) -> None:
        self._quotes[quote.instrument] = quote

    def get(self, instrument: InstrumentId) -> Quote | None:
        return self._quotes.get(instrument)

    def mark(self, instrument: InstrumentId) -> Decimal | None:
        quote = self._quotes.get(instrument)
        return quote.mid if quote is not None else None
