"""The paper venue's settings: typed, frozen, strict about numbers and names."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from tradewire.domain.enums import AssetClass, OrderType, VenueOrderStatus
from tradewire.domain.ids import InstrumentId
from tradewire.venues.paper import DEFAULT_INSTRUMENTS, PaperVenueConfig, SimulatedInstrument

from .support import connected_venue, settle, spec

GOLD = SimulatedInstrument(
    instrument_id="XAUUSD",
    asset_class=AssetClass.CFD,
    base_currency="XAU",
    quote_currency="USD",
    tick_size=Decimal("0.01"),
    lot_size=Decimal("0.01"),
    min_quantity=Decimal("0.01"),
    start_price=Decimal("2300.00"),
    level_quantity=Decimal(5),
)


def test_the_defaults_are_a_live_paper_venue_in_memory() -> None:
    config = PaperVenueConfig()

    assert config.venue == "paper"
    assert config.path is None
    assert config.tick_interval == Decimal("0.25")
    assert config.depth_levels == 5
    assert str(config.day_close_utc) == "21:00:00"
    assert config.order_types == frozenset(OrderType)


def test_floats_are_refused_for_decimal_settings() -> None:
    with pytest.raises(ValidationError, match="floats are inexact"):
        PaperVenueConfig(reject_probability=0.5)


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        PaperVenueConfig.model_validate({"tick_intervall": "1"})


def test_an_instrument_listed_twice_is_refused() -> None:
    with pytest.raises(ValidationError, match="listed twice"):
        PaperVenueConfig(extra_instruments=(DEFAULT_INSTRUMENTS[0],))


def test_a_start_price_off_the_tick_grid_is_refused() -> None:
    with pytest.raises(ValidationError, match="not on the tick grid"):
        SimulatedInstrument.model_validate(GOLD.model_dump() | {"start_price": "2300.005"})


async def test_extra_instruments_extend_the_catalog_and_trade() -> None:
    venue, recorder, _ = await connected_venue(extra_instruments=(GOLD,))

    await venue.submit(spec("g-1", instrument="XAUUSD", quantity="0.05"))
    await settle()

    assert len(venue.instruments()) == len(DEFAULT_INSTRUMENTS) + 1
    assert recorder.last_status("g-1").status is VenueOrderStatus.FILLED


async def test_instruments_replace_the_catalog() -> None:
    venue, recorder, _ = await connected_venue(instruments=(GOLD,))

    await venue.submit(spec("a-1", instrument="AAPL"))
    await settle()

    assert [i.instrument_id for i in venue.instruments()] == [InstrumentId("XAUUSD")]
    assert recorder.last_status("a-1").reason == "unknown instrument 'AAPL'"
