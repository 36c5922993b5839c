"""The paper venue as a `VenueClient`: lifecycle reports, cancel and modify, timing, faults."""

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tradewire.domain.enums import (
    LiquiditySide,
    OrderType,
    Side,
    TimeInForce,
    VenueOrderStatus,
)
from tradewire.domain.errors import VenueUnavailable
from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId
from tradewire.domain.reports import ExecutionReport, FillReport, OrderStatusReport
from tradewire.venues.paper import DisconnectWindow, PaperVenue
from tradewire.venues.port import VenueClient

from .support import (
    ACCOUNT,
    START,
    Recorder,
    connected_venue,
    make_venue,
    ref,
    settle,
    spec,
    write_quotes,
)

AAPL = InstrumentId("AAPL")


@pytest.fixture
def moving_market(tmp_path: Path) -> Path:
    """AAPL steps: 100.00 mid, then the ask drops to 99.99, then the market jumps to 100.05."""
    return write_quotes(
        tmp_path / "quotes.csv",
        [
            "2026-01-05T14:30:00Z,AAPL,99.99,100.01,100,100",
            "2026-01-05T14:30:01Z,AAPL,99.97,99.99,100,100",
            "2026-01-05T14:30:02Z,AAPL,100.04,100.06,500,500",
            "2026-01-05T14:30:03Z,AAPL,99.90,99.92,500,500",
        ],
    )


def test_the_paper_venue_is_a_venue_client() -> None:
    venue, _ = make_venue()
    client: VenueClient = venue

    assert client.venue == "paper"
    assert {i.instrument_id for i in client.instruments()} >= {
        "EURUSD",
        "GBPUSD",
        "USDJPY",
        "BTC/USDT",
        "ETH/USDT",
        "AAPL",
        "MSFT",
        "ESZ6",
    }
    assert all(i.venue == "paper" for i in client.instruments())


async def test_reports_are_never_delivered_from_inside_submit_cancel_or_modify() -> None:
    venue, recorder, _ = await connected_venue()
    resting = spec("r-1", order_type=OrderType.LIMIT, limit_price="150.00")

    await venue.submit(spec("m-1"))
    await venue.submit(resting)
    await venue.modify(ref(resting), Decimal(200), Decimal("150.01"), None)
    await venue.cancel(ref(resting))
    assert recorder.reports == []

    await settle()
    assert recorder.statuses("m-1")[-1] is VenueOrderStatus.FILLED
    assert recorder.statuses("r-1")[-1] is VenueOrderStatus.CANCELED


async def test_a_market_order_reports_accepted_then_its_fills_then_filled() -> None:
    venue, recorder, _ = await connected_venue()

    await venue.submit(spec("m-1", quantity="10"))
    await settle()

    kinds = [type(r).__name__ for r in recorder.reports]
    assert kinds[0] == "OrderStatusReport"
    assert kinds[-1] == "OrderStatusReport"
    assert set(kinds[1:-1]) == {"FillReport"}
    assert recorder.statuses("m-1") == [VenueOrderStatus.ACCEPTED, VenueOrderStatus.FILLED]
    accepted = recorder.last_status("m-1")
    assert accepted.venue_order_id == "PV-1"
    assert accepted.filled_quantity == 10
    [fill] = recorder.fills("m-1")
    assert fill.fill_id == "P-1"
    assert fill.liquidity is LiquiditySide.TAKER
    assert fill.fee_currency == "USD"
    assert fill.price == accepted.average_price


async def test_fill_ids_and_venue_order_ids_are_unique_and_increasing() -> None:
    venue, recorder, _ = await connected_venue()
    for n in range(3):
        await venue.submit(spec(f"m-{n}", quantity="1000"))
    await settle()

    fill_ids = [f.fill_id for f in recorder.fills()]
    assert len(fill_ids) == len(set(fill_ids)) > 3
    assert [recorder.last_status(f"m-{n}").venue_order_id for n in range(3)] == [
        "PV-1",
        "PV-2",
        "PV-3",
    ]


async def test_cancel_of_a_resting_order_reports_canceled_and_removes_it_from_open_orders() -> None:
    venue, recorder, _ = await connected_venue()
    resting = spec("r-1", order_type=OrderType.LIMIT, limit_price="150.00")
    await venue.submit(resting)
    await settle()
    assert [o.client_order_id for o in await venue.open_orders()] == ["r-1"]

    await venue.cancel(ref(resting))
    await settle()

    assert recorder.statuses("r-1") == [VenueOrderStatus.ACCEPTED, VenueOrderStatus.CANCELED]
    assert await venue.open_orders() == []


async def test_cancel_of_an_unknown_order_produces_a_cancel_reject() -> None:
    venue, recorder, _ = await connected_venue()

    await venue.cancel(ref(spec("ghost")))
    await settle()

    [reject] = recorder.cancel_rejects()
    assert reject.client_order_id == "ghost"
    assert reject.reason == "unknown order"
    assert not reject.replace


async def test_cancel_of_a_filled_order_produces_a_cancel_reject_that_says_it_is_filled() -> None:
    venue, recorder, _ = await connected_venue()
    filled = spec("m-1")
    await venue.submit(filled)
    await settle()

    await venue.cancel(ref(filled))
    await settle()

    [reject] = recorder.cancel_rejects()
    assert reject.reason == "the order is already filled"


async def test_cancel_from_another_account_is_refused_as_unknown() -> None:
    venue, recorder, _ = await connected_venue()
    resting = spec("r-1", order_type=OrderType.LIMIT, limit_price="150.00")
    await venue.submit(resting)
    other = spec("r-1", account=AccountId("someone-else"))

    await venue.cancel(ref(other))
    await settle()

    assert recorder.cancel_rejects()[0].reason == "unknown order"
    assert len(await venue.open_orders()) == 1


async def test_modify_changes_the_quantity_and_price_of_a_working_order() -> None:
    venue, recorder, _ = await connected_venue()
    resting = spec("r-1", order_type=OrderType.LIMIT, limit_price="150.00")
    await venue.submit(resting)

    await venue.modify(ref(resting), Decimal(300), Decimal("151.00"), None)
    await settle()

    amended = recorder.last_status("r-1")
    assert amended.status is VenueOrderStatus.ACCEPTED
    assert (amended.quantity, amended.limit_price) == (Decimal(300), Decimal("151.00"))
    [open_order] = await venue.open_orders()
    assert (open_order.quantity, open_order.limit_price) == (Decimal(300), Decimal("151.00"))


async def test_modify_that_makes_a_limit_marketable_fills_it_as_a_taker() -> None:
    venue, recorder, _ = await connected_venue()
    resting = spec("r-1", quantity="10", order_type=OrderType.LIMIT, limit_price="150.00")
    await venue.submit(resting)
    quote = venue.current_quote(AAPL)
    assert quote is not None

    await venue.modify(ref(resting), Decimal(10), quote.ask, None)
    await settle()

    assert recorder.last_status("r-1").status is VenueOrderStatus.FILLED
    assert [f.liquidity for f in recorder.fills("r-1")] == [LiquiditySide.TAKER]


@pytest.mark.parametrize(
    ("quantity", "limit_price", "reason"),
    [
        ("0", "150.00", "must be positive"),
        ("20", "150.001", "not on the tick size"),
        ("20", None, "needs a limit price"),
        ("20.5", "150.00", "not a multiple of the lot size"),
    ],
)
async def test_an_invalid_modify_produces_a_replace_reject_and_changes_nothing(
    quantity: str, limit_price: str | None, reason: str
) -> None:
    venue, recorder, _ = await connected_venue()
    order = spec("r-1", quantity="100", order_type=OrderType.LIMIT, limit_price="150.00")
    await venue.submit(order)
    await settle()
    before = await venue.order_status(ClientOrderId("r-1"))

    await venue.modify(
        ref(order), Decimal(quantity), None if limit_price is None else Decimal(limit_price), None
    )
    await settle()

    [reject] = recorder.cancel_rejects()
    assert reject.replace
    assert reason in reject.reason
    assert await venue.order_status(ClientOrderId("r-1")) == before


async def test_modify_of_a_partially_filled_order_must_keep_the_quantity_above_the_fills() -> None:
    venue, recorder, _ = await connected_venue()
    quote = venue.current_quote(AAPL)
    assert quote is not None
    order = spec("big", quantity="100000", order_type=OrderType.LIMIT, limit_price=str(quote.ask))
    await venue.submit(order)
    await settle()
    partial = recorder.last_status("big")
    assert partial.status is VenueOrderStatus.PARTIALLY_FILLED

    await venue.modify(ref(order), partial.filled_quantity, quote.ask, None)
    await settle()

    assert "must exceed the filled quantity" in recorder.cancel_rejects()[0].reason


async def test_modify_of_an_unknown_order_produces_a_replace_reject() -> None:
    venue, recorder, _ = await connected_venue()

    await venue.modify(ref(spec("ghost")), Decimal(1), None, None)
    await settle()

    [reject] = recorder.cancel_rejects()
    assert reject.replace
    assert reject.reason == "unknown order"


async def test_a_resting_limit_fills_as_maker_on_a_later_step_when_the_market_crosses_it(
    moving_market: Path,
) -> None:
    venue, recorder, _ = await connected_venue(quotes_csv=moving_market)
    await venue.submit(spec("r-1", order_type=OrderType.LIMIT, limit_price="100.00"))
    await settle()
    assert recorder.statuses("r-1") == [VenueOrderStatus.ACCEPTED]

    await venue.step()
    await settle()

    [fill] = recorder.fills("r-1")
    assert (fill.price, fill.quantity, fill.liquidity) == (
        Decimal("100.00"),
        Decimal(100),
        LiquiditySide.MAKER,
    )
    assert recorder.last_status("r-1").status is VenueOrderStatus.FILLED


async def test_a_buy_stop_triggers_when_the_ask_reaches_it_and_fills_at_the_market(
    moving_market: Path,
) -> None:
    venue, recorder, _ = await connected_venue(quotes_csv=moving_market)
    await venue.submit(spec("s-1", order_type=OrderType.STOP, stop_price="100.05"))
    await venue.step()
    await settle()
    assert recorder.fills("s-1") == []

    await venue.step()
    await settle()

    [fill] = recorder.fills("s-1")
    assert fill.price == Decimal("100.06")
    assert fill.liquidity is LiquiditySide.TAKER


async def test_a_sell_stop_limit_triggers_and_then_rests_as_a_limit(moving_market: Path) -> None:
    venue, recorder, _ = await connected_venue(quotes_csv=moving_market)
    order = spec(
        "sl-1",
        side=Side.SELL,
        order_type=OrderType.STOP_LIMIT,
        stop_price="99.97",
        limit_price="99.97",
    )
    await venue.submit(order)
    await venue.step()  # bid 99.97: triggers; the bid meets the limit, so it takes
    await settle()

    [fill] = recorder.fills("sl-1")
    assert (fill.price, fill.liquidity) == (Decimal("99.97"), LiquiditySide.TAKER)


async def test_a_day_order_expires_at_the_configured_close() -> None:
    venue, recorder, clock = await connected_venue(day_close_utc="15:00")
    await venue.submit(
        spec("d-1", order_type=OrderType.LIMIT, limit_price="150.00", time_in_force=TimeInForce.DAY)
    )
    await venue.submit(spec("g-1", order_type=OrderType.LIMIT, limit_price="150.00"))
    clock.advance(timedelta(minutes=29))
    await venue.step()
    await settle()
    assert recorder.statuses("d-1") == [VenueOrderStatus.ACCEPTED]

    clock.advance(timedelta(minutes=1))
    await venue.step()
    await settle()

    assert recorder.statuses("d-1")[-1] is VenueOrderStatus.EXPIRED
    assert [o.client_order_id for o in await venue.open_orders()] == ["g-1"]


async def test_each_step_pushes_the_top_of_book_to_on_quote() -> None:
    venue, recorder, _ = await connected_venue()

    await venue.step(3)

    assert len(recorder.quotes) == 3 * len(venue.instruments())
    assert all(q.bid < q.ask for q in recorder.quotes)


async def test_latency_delays_every_report_and_preserves_their_order() -> None:
    venue, recorder, _ = await connected_venue(latency_ms=300)
    loop = asyncio.get_running_loop()
    sent = loop.time()
    await venue.submit(spec("m-1", quantity="1000"))
    await venue.submit(spec("r-1", order_type=OrderType.LIMIT, limit_price="150.00"))
    await venue.cancel(ref(spec("r-1")))
    await asyncio.sleep(0.05)
    assert recorder.reports == []

    while VenueOrderStatus.CANCELED not in recorder.statuses("r-1"):
        assert loop.time() - sent < 5, "reports never arrived"
        await asyncio.sleep(0.01)
    assert loop.time() - sent >= 0.3

    assert [
        (r.client_order_id, r.status if isinstance(r, OrderStatusReport) else "fill")
        for r in recorder.reports
    ] == [
        ("m-1", VenueOrderStatus.ACCEPTED),
        *[("m-1", "fill")] * len(recorder.fills("m-1")),
        ("m-1", VenueOrderStatus.FILLED),
        ("r-1", VenueOrderStatus.ACCEPTED),
        ("r-1", VenueOrderStatus.CANCELED),
    ]


async def test_an_ack_and_the_fills_it_traded_on_arrival_travel_in_one_loop_callback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    venue, recorder, _ = await connected_venue()
    loop = asyncio.get_running_loop()
    scheduled: list[str] = []
    call_soon, call_later = loop.call_soon, loop.call_later

    def counted_soon(callback: Any, *args: Any, **kwargs: Any) -> asyncio.Handle:
        scheduled.append(getattr(callback, "__name__", "?"))
        return call_soon(callback, *args, **kwargs)

    def counted_later(delay: float, callback: Any, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        scheduled.append(getattr(callback, "__name__", "?"))
        return call_later(delay, callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_soon", counted_soon)
    monkeypatch.setattr(loop, "call_later", counted_later)
    await venue.submit(spec("m-1", quantity="10"))
    monkeypatch.undo()

    assert scheduled == ["_deliver_next"]
    assert recorder.reports == []
    await settle()
    assert recorder.statuses("m-1") == [VenueOrderStatus.ACCEPTED, VenueOrderStatus.FILLED]
    assert len(recorder.fills("m-1")) == 1


async def test_a_disconnect_while_a_batch_is_delivered_loses_the_rest_of_it() -> None:
    venue, _ = make_venue()
    recorder = Recorder()

    def drop_after_the_first_report(report: ExecutionReport) -> None:
        recorder.on_report(report)
        venue.simulate_disconnect()

    await venue.connect(drop_after_the_first_report, recorder.on_quote, recorder.on_connection)
    await venue.submit(spec("m-1", quantity="10"))
    await settle()

    assert recorder.statuses("m-1") == [VenueOrderStatus.ACCEPTED]
    assert recorder.fills("m-1") == []
    venue.reconnect()
    status = await venue.order_status(ClientOrderId("m-1"))
    assert status is not None
    assert status.status is VenueOrderStatus.FILLED


async def test_requests_while_disconnected_raise_venue_unavailable() -> None:
    venue, _, _ = await connected_venue()
    order = spec("m-1")

    venue.simulate_disconnect()

    assert not venue.connected
    with pytest.raises(VenueUnavailable):
        await venue.submit(order)
    with pytest.raises(VenueUnavailable):
        await venue.cancel(ref(order))
    with pytest.raises(VenueUnavailable):
        await venue.modify(ref(order), Decimal(1), None, None)
    with pytest.raises(VenueUnavailable):
        await venue.order_status(order.client_order_id)
    venue.reconnect()
    assert await venue.order_status(order.client_order_id) is None


async def test_connection_changes_are_reported_through_on_connection() -> None:
    venue, recorder, _ = await connected_venue()

    venue.simulate_disconnect()
    venue.reconnect()

    assert recorder.connection == [True, False, True]
    assert venue.connected


async def test_fills_during_an_outage_are_not_delivered_but_the_queries_reveal_them(
    moving_market: Path,
) -> None:
    venue, recorder, _ = await connected_venue(quotes_csv=moving_market)
    await venue.submit(spec("r-1", order_type=OrderType.LIMIT, limit_price="100.00"))
    await settle()
    delivered = len(recorder.reports)

    venue.simulate_disconnect()
    await venue.step()  # the ask drops to 99.99: the resting order fills while we are away
    await settle()
    venue.reconnect()
    await settle()

    assert len(recorder.reports) == delivered
    status = await venue.order_status(ClientOrderId("r-1"))
    assert status is not None
    assert status.status is VenueOrderStatus.FILLED
    [fill] = await venue.fills_since(START)
    assert (fill.client_order_id, fill.quantity, fill.price) == (
        ClientOrderId("r-1"),
        Decimal(100),
        Decimal("100.00"),
    )
    [position] = await venue.positions()
    assert position.quantity == 100
    assert await venue.open_orders() == []


async def test_reports_still_in_flight_when_the_connection_drops_are_lost() -> None:
    venue, recorder, _ = await connected_venue(latency_ms=20)
    await venue.submit(spec("m-1"))

    venue.simulate_disconnect()
    await asyncio.sleep(0.05)
    venue.reconnect()
    await asyncio.sleep(0.05)

    assert recorder.reports == []
    status = await venue.order_status(ClientOrderId("m-1"))
    assert status is not None
    assert status.status is VenueOrderStatus.FILLED


async def test_a_configured_disconnect_window_drops_and_restores_the_connection() -> None:
    venue, recorder, _ = await connected_venue(disconnects=(DisconnectWindow(at_step=2, steps=2),))

    connected = []
    for _ in range(5):
        await venue.step()
        connected.append(venue.connected)

    assert connected == [True, False, False, True, True]
    assert recorder.connection == [True, False, True]


async def test_requests_before_connect_raise_venue_unavailable() -> None:
    venue, _ = make_venue()

    with pytest.raises(VenueUnavailable):
        await venue.submit(spec("m-1"))


async def test_live_mode_steps_the_feed_in_the_background_until_closed() -> None:
    venue, _ = make_venue(tick_interval="0.01")
    recorder = Recorder()
    await venue.connect(recorder.on_report, recorder.on_quote, recorder.on_connection)

    await asyncio.sleep(0.1)
    await venue.close()
    seen = len(recorder.quotes)
    await asyncio.sleep(0.05)

    assert seen >= 2 * len(venue.instruments())
    assert len(recorder.quotes) == seen
    assert not venue.connected


async def test_a_closed_venue_refuses_requests_and_queries() -> None:
    venue, _, _ = await connected_venue()
    await venue.close()

    with pytest.raises(VenueUnavailable):
        await venue.submit(spec("m-1"))
    with pytest.raises(VenueUnavailable):
        await venue.open_orders()


async def test_positions_are_net_per_account_and_instrument_with_average_price() -> None:
    venue, recorder, _ = await connected_venue()
    other = AccountId("acct-2")
    await venue.submit(spec("b-1", quantity="10"))
    await venue.submit(spec("s-1", side=Side.SELL, quantity="4"))
    await venue.submit(spec("b-2", instrument="ESZ6", quantity="2", account=other))
    await settle()

    positions = {(p.account, str(p.instrument)): p for p in await venue.positions()}
    assert positions[(ACCOUNT, "AAPL")].quantity == 6
    assert positions[(ACCOUNT, "AAPL")].average_price == recorder.fills("b-1")[0].price
    assert positions[(other, "ESZ6")].quantity == 2
    assert [p.account for p in await venue.positions(other)] == ["acct-2"]


async def test_fills_since_returns_fills_at_or_after_the_time_for_the_account(
    moving_market: Path,
) -> None:
    venue, _, clock = await connected_venue()
    await venue.submit(spec("early"))
    clock.advance(timedelta(seconds=10))
    later = clock.now()
    await venue.submit(spec("late"))
    await venue.submit(spec("other", account=AccountId("acct-2")))

    fills = await venue.fills_since(later, AccountId("acct-1"))

    assert {f.client_order_id for f in fills} == {"late"}
    assert all(isinstance(f, FillReport) for f in fills)
    assert len(await venue.fills_since(START)) >= 3


async def test_connecting_twice_is_a_programming_error() -> None:
    venue, recorder, _ = await connected_venue()

    with pytest.raises(RuntimeError):
        await venue.connect(recorder.on_report, recorder.on_quote, recorder.on_connection)


def test_a_venue_can_be_renamed_for_a_second_paper_account_set() -> None:
    venue: PaperVenue = make_venue(venue="paper-2")[0]

    assert venue.venue == "paper-2"
    assert {i.venue for i in venue.instruments()} == {"paper-2"}


async def test_fills_since_a_naive_time_is_a_programming_error() -> None:
    venue, _, _ = await connected_venue()

    with pytest.raises(ValueError, match="timezone-aware"):
        await venue.fills_since(START.replace(tzinfo=None))
