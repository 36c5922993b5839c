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
