"""The paper venue's instruments: trading rules plus how its synthetic market moves.

Each `SimulatedInstrument` is a domain `Instrument` (tick, lot, minimums, multiplier, fees) with the
parameters of its seeded random walk: a start price, a spread in ticks, the largest move per step in
ticks and the displayed quantity unit of one book level. The defaults are realistic enough for the
engine's sizing and risk rules to matter (FX lots, crypto minimum notional, a futures multiplier).
"""

from decimal import Decimal
from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from tradewire.domain.enums import AssetClass
from tradewire.domain.ids import InstrumentId, VenueId
from tradewire.domain.instruments import Instrument
from tradewire.domain.values import is_on_step


def _refuse_float(value: object) -> object:
    if isinstance(value, float):
        raise ValueError("floats are inexact; write the number as a string")
    return value


ExactDecimal = Annotated[Decimal, BeforeValidator(_refuse_float)]
"""A Decimal config value; floats are refused (0.1 as a float is not 0.1)."""


class SimulatedInstrument(BaseModel):
    """One instrument the paper venue trades, and the shape of its synthetic market."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instrument_id: str
    asset_class: AssetClass
    base_currency: str
    quote_currency: str
    tick_size: ExactDecimal = Field(gt=0)
    lot_size: ExactDecimal = Field(gt=0)
    min_quantity: ExactDecimal = Field(gt=0)
    max_quantity: ExactDecimal | None = None
    min_notional: ExactDecimal | None = None
    multiplier: ExactDecimal = Decimal(1)
    maker_fee_rate: ExactDecimal = Decimal(0)
    taker_fee_rate: ExactDecimal = Decimal(0)
    calendar: str = "24/7"
    start_price: ExactDecimal = Field(gt=0)
    """The mid price the random walk starts from (a restarted venue continues from its last mid)."""
    spread_ticks: int = Field(default=2, ge=1)
    volatility_ticks: int = Field(default=2, ge=0)
    """The largest move of the mid per step, in ticks, drawn uniformly from -v..+v."""
    level_quantity: ExactDecimal = Field(gt=0)
    """The displayed quantity unit: each book level shows 1 to 5 of these."""

    @model_validator(mode="after")
    def _check_grid(self) -> Self:
        problems = []
        if not is_on_step(self.min_quantity, self.lot_size):
            problems.append("min_quantity is not a multiple of lot_size")
        if not is_on_step(self.level_quantity, self.lot_size):
            problems.append("level_quantity is not a multiple of lot_size")
        half_spread = self.spread_ticks * self.tick_size / 2
        if not is_on_step(self.start_price - half_spread, self.tick_size):
            problems.append("start_price minus half the spread is not on the tick grid")
        if problems:
            raise ValueError(f"{self.instrument_id}: " + "; ".join(problems))
        return self

    def to_instrument(self, venue: VenueId) -> Instrument:
        return Instrument(
            instrument_id=InstrumentId(self.instrument_id),
            venue=venue,
            asset_class=self.asset_class,
            base_currency=self.base_currency,
            quote_currency=self.quote_currency,
            tick_size=self.tick_size,
            lot_size=self.lot_size,
            min_quantity=self.min_quantity,
            max_quantity=self.max_quantity,
            min_notional=self.min_notional,
            multiplier=self.multiplier,
            maker_fee_rate=self.maker_fee_rate,
            taker_fee_rate=self.taker_fee_rate,
            calendar=self.calendar,
        )


def _fx(instrument_id: str, tick: str, start: str, spread_ticks: int) -> SimulatedInstrument:
    base, quote = instrument_id[:3], instrument_id[3:]
    return SimulatedInstrument(
        instrument_id=instrument_id,
        asset_class=AssetClass.FX,
        base_currency=base,
        quote_currency=quote,
        tick_size=Decimal(tick),
        lot_size=Decimal(1000),
        min_quantity=Decimal(1000),
        max_quantity=Decimal(50_000_000),
        calendar="fx-24x5",
        start_price=Decimal(start),
        spread_ticks=spread_ticks,
        volatility_ticks=3,
        level_quantity=Decimal(100_000),
    )


def _crypto(instrument_id: str, lot: str, start: str, level: str) -> SimulatedInstrument:
    base, quote = instrument_id.split("/")
    return SimulatedInstrument(
        instrument_id=instrument_id,
        asset_class=AssetClass.CRYPTO_SPOT,
        base_currency=base,
        quote_currency=quote,
        tick_size=Decimal("0.01"),
        lot_size=Decimal(lot),
        min_quantity=Decimal(lot),
        max_quantity=Decimal(1000),
        min_notional=Decimal(5),
        maker_fee_rate=Decimal("0.0002"),
        taker_fee_rate=Decimal("0.0004"),
        start_price=Decimal(start),
        spread_ticks=2,
        volatility_ticks=50,
        level_quantity=Decimal(level),
    )


def _equity(instrument_id: str, start: str) -> SimulatedInstrument:
    return SimulatedInstrument(
        instrument_id=instrument_id,
        asset_class=AssetClass.EQUITY,
        base_currency=instrument_id,
        quote_currency="USD",
        tick_size=Decimal("0.01"),
        lot_size=Decimal(1),
        min_quantity=Decimal(1),
        max_quantity=Decimal(1_000_000),
        calendar="XNYS",
        start_price=Decimal(start),
        spread_ticks=2,
        volatility_ticks=3,
        level_quantity=Decimal(100),
    )


DEFAULT_INSTRUMENTS: tuple[SimulatedInstrument, ...] = (
    _fx("EURUSD", "0.00001", "1.08500", 6),
    _fx("GBPUSD", "0.00001", "1.27000", 10),
    _fx("USDJPY", "0.001", "150.000", 8),
    _crypto("BTC/USDT", "0.00001", "65000.00", "0.5"),
    _crypto("ETH/USDT", "0.0001", "3200.00", "5"),
    _equity("AAPL", "190.00"),
    _equity("MSFT", "420.00"),
    SimulatedInstrument(
        instrument_id="ESZ6",
        asset_class=AssetClass.FUTURE,
        base_currency="ES",
        quote_currency="USD",
        tick_size=Decimal("0.25"),
        lot_size=Decimal(1),
        min_quantity=Decimal(1),
        max_quantity=Decimal(1000),
        multiplier=Decimal(50),
        calendar="CMES",
        start_price=Decimal("6000.00"),
        spread_ticks=2,
        volatility_ticks=2,
        level_quantity=Decimal(20),
    ),
)
"""FX majors, two crypto pairs, two US stocks and the E-mini S&P December 2026 future."""
