"""Leverage of perpetual swaps: validated against the markets, set at every connect, failures surfaced."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ccxt.base import errors as ccxt_errors
from pydantic import ValidationError

from tests.fakes.exchange import FakeExchange
from tests.fakes.exchange.bybit import bybit_of
from tradewire.domain.clock import ManualClock
from tradewire.domain.enums import OrderType, Side, TimeInForce, VenueOrderStatus
from tradewire.domain.errors import VenueBusy
from tradewire.domain.events import OrderSpec
from tradewire.domain.ids import ClientOrderId, InstrumentId, StrategyId, VenueId
from tradewire.venues.ccxt.client import CcxtVenue
from tradewire.venues.ccxt.exchanges import PROFILES
from tradewire.venues.ccxt.leverage import error_code

from .on_fake import ACCOUNT, Received, connected, fake_venue, orders_at_fake, until
from .support import config

PERPETUAL = "BTC/USDT:USDT"
BOOK = "BTCUSDT"


def perpetual_order(client_order_id: str, *, reduce_only: bool = False) -> OrderSpec:
    return OrderSpec(
        client_order_id=ClientOrderId(client_order_id),
        account=ACCOUNT,
        strategy=StrategyId("trend"),
        instrument=InstrumentId(PERPETUAL),
        venue=VenueId("bybit"),
        side=Side.SELL if reduce_only else Side.BUY,
        order_type=OrderType.MARKET,
        quantity=Decimal("0.5"),
        time_in_force=TimeInForce.IOC,
        reduce_only=reduce_only,
    )


def perpetual_venue(fake: FakeExchange, directory: Path, leverage: str, **overrides: Any) -> CcxtVenue:
    return fake_venue(
        fake,
        "bybit",
        directory,
        symbols=("BTC/USDT", PERPETUAL),
        leverage={PERPETUAL: Decimal(leverage)},
        watch=False,
        **overrides,
    )


# --- configuration -------------------------------------------------------------------------------------


@pytest.mark.parametrize("leverage", ["0", "-2"])
def test_a_leverage_that_is_not_above_zero_is_refused_with_what_is_accepted(leverage: str) -> None:
    with pytest.raises(ValidationError, match=f"leverage {leverage} for BTC/USDT:USDT .*above 0"):
        config("bybit", (PERPETUAL,), leverage={PERPETUAL: leverage})


def test_leverage_for_a_symbol_not_traded_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError, match=r"ETH/USDT:USDT, which is not in `symbols`.*BTC/USDT:USDT"):
        config("bybit", (PERPETUAL,), leverage={"ETH/USDT:USDT": "5"})


def test_leverage_for_a_spot_symbol_is_refused_with_the_reason() -> None:
    settings = config("bybit", ("BTC/USDT", PERPETUAL), leverage={"BTC/USDT": "2"})

    with pytest.raises(
        ValueError, match="BTC/USDT, a crypto spot market; spot is traded without leverage"
    ) as e:
        CcxtVenue(settings, ManualClock())

    assert f"accepted: the perpetuals in `symbols`: {PERPETUAL}" in str(e.value)


def test_leverage_beyond_the_market_limits_is_refused_with_the_limits() -> None:
    settings = config("bybit", (PERPETUAL,), leverage={PERPETUAL: "125"})

    with pytest.raises(ValueError, match=r"leverage 125 for BTC/USDT:USDT is outside .*accepted: 1 to 100"):
        CcxtVenue(settings, ManualClock())


def test_leverage_of_a_perpetual_is_accepted() -> None:
    settings = config("bybit", (PERPETUAL,), leverage={PERPETUAL: "7.5"})

    CcxtVenue(settings, ManualClock())

    assert settings.leverage == {PERPETUAL: Decimal("7.5")}


def test_the_unchanged_answer_is_recognised_by_its_code_only() -> None:
    unchanged = PROFILES["bybit"].leverage_unchanged
    assert unchanged is not None

    same = ccxt_errors.BadRequest('bybit {"retCode":110043,"retMsg":"Set leverage not modified"}')
    other = ccxt_errors.BadRequest('bybit {"retCode": 110013, "retMsg": "Due to risk limit"}')

    assert error_code(same, unchanged)
    assert not error_code(other, unchanged)
    assert not error_code(ccxt_errors.BadRequest("bybit 110043 without a body"), unchanged)


# --- against the fake exchange ---------------------------------------------------------------------------


async def test_connect_sets_the_configured_leverage_at_the_exchange(tmp_path: Path) -> None:
    async with FakeExchange() as fake:
        venue = perpetual_venue(fake, tmp_path, "5")
        assert bybit_of(fake).leverage_of(BOOK) != Decimal(5)

        async with connected(venue) as received:
            assert bybit_of(fake).leverage_of(BOOK) == Decimal(5)
            assert venue.connected and received.connection == [True]
            sent = bybit_of(fake).leverage_requests
            assert [(r["category"], r["buyLeverage"], r["sellLeverage"]) for r in sent] == [
                ("linear", "5", "5")
            ]


async def test_an_unchanged_leverage_at_a_reconnect_or_new_session_is_success(tmp_path: Path) -> None:
    async with FakeExchange() as fake:
        first = perpetual_venue(fake, tmp_path, "3")
        async with connected(first):
            pass
        venue = perpetual_venue(fake, tmp_path, "3")
        received = Received()

        await venue.connect(received.on_report, lambda quote: None, received.on_connection)
        await venue.connect(received.on_report, lambda quote: None, received.on_connection)

        try:
            assert len(bybit_of(fake).leverage_requests) == 3  # each answered "not modified" but the first
            assert venue.connected and bybit_of(fake).leverage_of(BOOK) == Decimal(3)
            await venue.submit(perpetual_order("lev-1"))
            await until(lambda: orders_at_fake(fake, "bybit", "lev-1") == 1, "the order")
        finally:
            await venue.close()


async def test_a_leverage_the_exchange_refuses_blocks_new_exposure_on_that_symbol_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeExchange() as fake:
        bybit_of(fake).max_leverage[BOOK] = Decimal(3)
        venue = perpetual_venue(fake, tmp_path, "5")

        async with connected(venue) as received:
            assert "refused leverage 5 for BTC/USDT:USDT" in caplog.text
            assert venue.connected
            await venue.submit(perpetual_order("lev-2"))
            await until(lambda: received.last_status(ClientOrderId("lev-2")) is not None)

            rejected = received.statuses(ClientOrderId("lev-2"))[-1]
            assert rejected.status is VenueOrderStatus.REJECTED
            assert rejected.reason is not None and "Due to risk limit" in rejected.reason
            assert orders_at_fake(fake, "bybit", "lev-2") == 0
            await venue.submit(perpetual_order("lev-3", reduce_only=True))
            await until(lambda: orders_at_fake(fake, "bybit", "lev-3") == 1, "the reduce-only order")

            bybit_of(fake).max_leverage[BOOK] = Decimal(10)
            await venue.connect(received.on_report, lambda quote: None, received.on_connection)
            await venue.submit(perpetual_order("lev-4"))
            await until(lambda: orders_at_fake(fake, "bybit", "lev-4") == 1, "the order after a reconnect")
            assert bybit_of(fake).leverage_of(BOOK) == Decimal(5)


async def test_a_leverage_that_cannot_be_set_now_leaves_the_venue_disconnected(tmp_path: Path) -> None:
    async with FakeExchange() as fake:
        fake.fail_next("leverage", 429)
        venue = perpetual_venue(fake, tmp_path, "5")
        received = Received()

        try:
            with pytest.raises(VenueBusy, match="set leverage 5 for BTC/USDT:USDT"):
                await venue.connect(received.on_report, lambda quote: None, received.on_connection)
            assert not venue.connected and received.connection == []

            await venue.connect(received.on_report, lambda quote: None, received.on_connection)
            assert received.connection == [True] and bybit_of(fake).leverage_of(BOOK) == Decimal(5)
        finally:
            await venue.close()
