"""Instruments and their trading rules (tick, lot, minimums, multiplier)."""

from decimal import Decimal

import msgspec

from tradewire.domain.enums import AssetClass, Side
from tradewire.domain.ids import InstrumentId, VenueId
from tradewire.domain.values import is_on_step, round_price_passive, round_quantity


class Instrument(msgspec.Struct, frozen=True, kw_only=True):
    instrument_id: InstrumentId
    venue: VenueId
    asset_class: AssetClass
    base_currency: str
    quote_currency: str
    tick_size: Decimal
    lot_size: Decimal
    """The quantity step."""
    min_quantity: Decimal
    max_quantity: Decimal | None = None
    min_notional: Decimal | None = None
    multiplier: Decimal = Decimal(1)
    """Contract multiplier: notional = quantity * price * multiplier."""
    maker_fee_rate: Decimal = Decimal(0)
    taker_fee_rate: Decimal = Decimal(0)
    calendar: str = "24/7"
    """Session calendar name (exchange_calendars code, "fx-24x5" or "24/7")."""
    venue_symbol: str | None = None
    """The venue's own symbol when it differs from ours."""

    def notional(self, quantity: Decimal, price: Decimal) -> Decimal:
        return quantity * price * self.multiplier

    def round_quantity(self, quantity: Decimal) -> Decimal:
        return round_quantity(quantity, self.lot_size)

    def round_limit_price(self, price: Decimal, side: Side) -> Decimal:
        return round_price_passive(price, self.tick_size, side)

    def is_on_tick(self, price: Decimal) -> bool:
        return is_on_step(price, self.tick_size)

    def is_on_lot(self, quantity: Decimal) -> bool:
        return is_on_step(quantity, self.lot_size)
