"""Markets of all five exchanges load from the saved files with no network and map to our rules."""

from decimal import Decimal

import pytest

from tradewire.domain.enums import AssetClass
from tradewire.domain.ids import InstrumentId, VenueId
from tradewire.domain.instruments import Instrument
from tradewire.venues.ccxt import mapping

from .support import connected_venue, fixture


def by_id(instruments: list[Instrument]) -> dict[str, Instrument]:
    return {i.instrument_id: i for i in instruments}


@pytest.mark.parametrize("exchange", ["binance", "bybit", "okx", "kraken", "coinbase"])
async def test_markets_load_from_the_saved_file_without_the_network(exchange: str) -> None:
    venue, received = await connected_venue(exchange, ("BTC/USDT",))  # fetch raises on any request

    [instrument] = venue.instruments()
    assert received.connection == [True]
    assert instrument.instrument_id == "BTC/USDT"
    assert instrument.asset_class is AssetClass.CRYPTO_SPOT
    assert (instrument.base_currency, instrument.quote_currency) == ("BTC", "USDT")
    await venue.close()


async def test_bybit_spot_rules_come_from_precision_and_limits() -> None:
    venue, _ = await connected_venue("bybit", ("BTC/USDT", "BTC/USDT:USDT"))
    instruments = by_id(venue.instruments())

    spot, perpetual = instruments["BTC/USDT"], instruments["BTC/USDT:USDT"]
    assert spot.tick_size == Decimal("0.1")
    assert spot.lot_size == Decimal("0.000001")
    assert spot.min_quantity == Decimal("0.000011")
    assert spot.max_quantity == Decimal("83")
    assert spot.min_notional == Decimal("5")
    assert spot.venue_symbol == "BTCUSDT"
    assert perpetual.asset_class is AssetClass.CRYPTO_PERPETUAL
    assert perpetual.lot_size == Decimal("0.001")
    assert perpetual.multiplier == Decimal("1")
    assert perpetual.taker_fee_rate == Decimal("0.0006")
    await venue.close()


async def test_binance_steps_come_from_the_raw_filters_not_the_digit_counts() -> None:
    venue, _ = await connected_venue("binance", ("BTC/USDT", "LTC/USDT"))
    instruments = by_id(venue.instruments())

    assert instruments["BTC/USDT"].tick_size == Decimal("0.01")
    assert instruments["BTC/USDT"].lot_size == Decimal("0.00001")
    assert instruments["BTC/USDT"].min_notional == Decimal("5")
    # ccxt's own rounding now agrees with the steps (with digit counts it raised InvalidOrder).
    assert venue.exchange.amount_to_precision("BTC/USDT", 0.123456789) == "0.12345"
    assert venue.exchange.price_to_precision("LTC/USDT", 55.324242343) == "55.32"
    await venue.close()


async def test_an_okx_perpetual_counts_contracts_with_the_contract_size_as_multiplier() -> None:
    venue, _ = await connected_venue("okx", ("BTC/USDT:USDT",), instrument_ids={"BTC/USDT:USDT": "BTC-PERP"})
    [perpetual] = venue.instruments()

    assert perpetual.instrument_id == InstrumentId("BTC-PERP")
    assert perpetual.multiplier == Decimal("0.01")
    assert perpetual.lot_size == Decimal("0.1")
    assert perpetual.min_quantity == Decimal("0.1")
    assert perpetual.notional(Decimal("2"), Decimal("60000")) == Decimal("1200.00")
    await venue.close()


async def test_kraken_and_coinbase_minimums() -> None:
    kraken, _ = await connected_venue("kraken", ("BTC/USDT",))
    coinbase, _ = await connected_venue("coinbase", ("BTC/USDT",))
    [k], [c] = kraken.instruments(), coinbase.instruments()

    assert (k.tick_size, k.lot_size, k.min_quantity, k.min_notional) == (
        Decimal("0.1"),
        Decimal("1E-8"),
        Decimal("0.0001"),
        None,
    )
    assert (c.tick_size, c.min_notional, c.max_quantity) == (Decimal("0.01"), Decimal("1"), Decimal("400"))
    await kraken.close()
    await coinbase.close()


def test_an_inverse_swap_is_refused_with_the_reason() -> None:
    market = fixture("markets", "bybit")["BTC/USD:BTC"]

    with pytest.raises(ValueError, match="inverse"):
        mapping.to_instrument(
            market, venue=VenueId("bybit"), instrument_id=InstrumentId("X"), precision_mode=4
        )


async def test_a_symbol_missing_from_the_markets_is_named() -> None:
    with pytest.raises(ValueError, match="no market NOPE/USDT"):
        await connected_venue("bybit", ("NOPE/USDT",))
