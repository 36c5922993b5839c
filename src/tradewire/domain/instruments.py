"""Instruments and their trading rules (tick, lot, minimums, multiplier)."""

from collections.abc import Iterable, Iterator
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


class Catalog:
    """Every listing: the same instrument ID may trade at several venues, each with its own rules.

    `catalog[instrument_id]` is the instrument's first listing (in configuration order);
    `catalog.at(venue, instrument_id)` is the listing at one venue."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self._listings: dict[tuple[VenueId, InstrumentId], Instrument] = {}
        self._venues: dict[InstrumentId, list[VenueId]] = {}
        for instrument in instruments:
            key = (instrument.venue, instrument.instrument_id)
            if key in self._listings:
                raise ValueError(f"{instrument.instrument_id} is listed twice at {instrument.venue}")
            self._listings[key] = instrument
            self._venues.setdefault(instrument.instrument_id, []).append(instrument.venue)

    def __getitem__(self, instrument_id: InstrumentId) -> Instrument:
        return self._listings[(self._venues[instrument_id][0], instrument_id)]

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self._venues

    def __iter__(self) -> Iterator[InstrumentId]:
        return iter(self._venues)

    def get(self, instrument_id: InstrumentId) -> Instrument | None:
        return self[instrument_id] if instrument_id in self._venues else None

    def at(self, venue: VenueId, instrument_id: InstrumentId) -> Instrument:
        return self._listings[(venue, instrument_id)]

    def listed_at(self, venue: VenueId, instrument_id: InstrumentId) -> bool:
        return (venue, instrument_id) in self._listings

    def venues_of(self, instrument_id: InstrumentId) -> list[VenueId]:
        return list(self._venues.get(instrument_id, ()))
