"""The faulty venue does what its plan says, and only that, and the same seed gives the same faults."""

import contextlib
from datetime import datetime
from decimal import Decimal

import msgspec
import pytest

from tests.factories import T0, make_spec
from tradewire.domain.enums import LiquiditySide, OrderType, Side, TimeInForce, VenueOrderStatus
from tradewire.domain.errors import VenueUnavailable
from tradewire.domain.events import OrderSpec
from tradewire.domain.ids import AccountId, ClientOrderId, FillId, InstrumentId, VenueId, VenueOrderId
from tradewire.domain.instruments import Instrument
from tradewire.domain.market import Quote
from tradewire.domain.reports import ExecutionReport, FillReport, OrderStatusReport, PositionReport
from tradewire.venues.faults import FaultPlan, FaultyVenue
from tradewire.venues.port import (
    ConnectionHandler,
    OrderRef,
    QuoteHandler,
    ReportHandler,
    VenueCapabilities,
)

VENUE = VenueId("scripted")


def fill(number: int) -> FillReport:
    return FillReport(
        venue=VENUE,
        account=AccountId("acct"),
        client_order_id=ClientOrderId("ord-1"),
        venue_order_id=VenueOrderId("V-1"),
        fill_id=FillId(f"F-{number}"),
        instrument=InstrumentId("ES"),
        side=Side.BUY,
        quantity=Decimal(1),
        price=Decimal(100),
        fee=Decimal(0),
        fee_currency="USD",
        liquidity=LiquiditySide.TAKER,
        ts_event=T0,
    )


class ScriptedVenue:
    """The smallest `VenueClient`: it records requests and sends the reports a test tells it to."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.connected = False
        self._on_report: ReportHandler | None = None
        self._on_quote: QuoteHandler | None = None

    @property
    def venue(self) -> VenueId:
        return VENUE

    @property
    def capabilities(self) -> VenueCapabilities:
        return VenueCapabilities(
            order_types=frozenset(OrderType),
            time_in_force=frozenset(TimeInForce),
            modify=True,
            reduce_only=True,
            max_client_order_id_length=64,
        )

    def instruments(self) -> list[Instrument]:
        return []

    async def connect(
        self, on_report: ReportHandler, on_quote: QuoteHandler, on_connection: ConnectionHandler
    ) -> None:
        self._on_report, self._on_quote, self.connected = on_report, on_quote, True
        on_connection(VENUE, True)

    async def close(self) -> None:
        self.connected = False

    def send(self, *reports: ExecutionReport) -> None:
        assert self._on_report is not None
        for report in reports:
            self._on_report(report)

    def quote(self) -> None:
        assert self._on_quote is not None
        self._on_quote(
            Quote(
                instrument=InstrumentId("ES"),
                bid=Decimal(1),
                ask=Decimal(2),
                bid_size=Decimal(1),
                ask_size=Decimal(1),
                ts_event=T0,
            )
        )

    async def submit(self, order: OrderSpec) -> None:
        self.requests.append(f"submit {order.client_order_id}")

    async def cancel(self, order: OrderRef) -> None:
        self.requests.append(f"cancel {order.client_order_id}")

    async def modify(
        self, order: OrderRef, quantity: Decimal, limit_price: Decimal | None, stop_price: Decimal | None
    ) -> None:
        self.requests.append(f"modify {order.client_order_id}")

    async def order_status(self, client_order_id: ClientOrderId) -> OrderStatusReport | None:
        return None

    async def open_orders(self, account: AccountId | None = None) -> list[OrderStatusReport]:
        return []

    async def fills_since(self, since: datetime, account: AccountId | None = None) -> list[FillReport]:
        return [fill(1)]

    async def positions(self, account: AccountId | None = None) -> list[PositionReport]:
        return []


class Engine:
    """What the engine would see: reports, quotes and connection changes, in order."""

    def __init__(self) -> None:
        self.reports: list[ExecutionReport] = []
        self.quotes: list[Quote] = []
        self.connection: list[bool] = []

    def report(self, report: ExecutionReport) -> None:
        self.reports.append(report)

    def quote(self, quote: Quote) -> None:
        self.quotes.append(quote)

    def connected(self, venue: VenueId, up: bool) -> None:
        self.connection.append(up)

    @property
    def fill_ids(self) -> list[str]:
        return [r.fill_id for r in self.reports if isinstance(r, FillReport)]


async def faulty_venue(plan: FaultPlan, seed: int = 7) -> tuple[FaultyVenue, ScriptedVenue, Engine]:
    inner, engine = ScriptedVenue(), Engine()
    faulty = FaultyVenue(inner, plan, seed)
    await faulty.connect(engine.report, engine.quote, engine.connected)
    return faulty, inner, engine


def accepted() -> OrderStatusReport:
    return OrderStatusReport(
        venue=VENUE,
        account=AccountId("acct"),
        client_order_id=ClientOrderId("ord-1"),
        venue_order_id=VenueOrderId("V-1"),
        instrument=InstrumentId("ES"),
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal(3),
        filled_quantity=Decimal(0),
        status=VenueOrderStatus.ACCEPTED,
        ts_event=T0,
    )


async def test_without_faults_reports_arrive_in_order_on_the_next_pump_and_not_before() -> None:
    faulty, inner, engine = await faulty_venue(FaultPlan())
    sent: list[ExecutionReport] = [accepted(), fill(1), fill(2), fill(3)]
    inner.send(*sent)
    assert engine.reports == [], "reports move only when the harness pumps"
    assert await faulty.pump() == 4
    assert engine.reports == sent
    assert faulty.injected == []


async def test_drop_loses_every_report_at_probability_one() -> None:
    faulty, inner, engine = await faulty_venue(FaultPlan(drop=1.0))
    inner.send(fill(1), fill(2))
    await faulty.pump()
    assert engine.reports == []
    assert [i.fault for i in faulty.injected] == ["drop", "drop"]


async def test_duplicate_delivers_each_report_twice() -> None:
    faulty, inner, engine = await faulty_venue(FaultPlan(duplicate=1.0))
    inner.send(fill(1))
    await faulty.pump()
    assert engine.fill_ids == ["F-1", "F-1"]


async def test_delay_holds_reports_back_for_at_most_max_delay_steps_pumps() -> None:
    faulty, inner, engine = await faulty_venue(FaultPlan(delay=1.0, max_delay_steps=2))
    inner.send(fill(1), fill(2), fill(3))
    assert await faulty.pump() == 0, "every report is delayed by at least one pump"
    await faulty.pump()
    await faulty.pump()
    assert sorted(engine.fill_ids) == ["F-1", "F-2", "F-3"]
    assert faulty.held == 0


async def test_reorder_shuffles_what_is_released_together() -> None:
    faulty, inner, engine = await faulty_venue(FaultPlan(reorder=1.0), seed=3)
    sent = [fill(n) for n in range(1, 9)]
    inner.send(*sent)
    await faulty.pump()
    assert sorted(engine.fill_ids) == sorted(r.fill_id for r in sent)
    assert engine.fill_ids != [r.fill_id for r in sent]


async def test_a_cut_connection_reports_down_loses_reports_refuses_requests_and_comes_back() -> None:
    faulty, inner, engine = await faulty_venue(FaultPlan())
    inner.send(fill(1))
    faulty.cut_connection(steps=2)
    inner.send(fill(2))
    inner.quote()
    assert (faulty.connected, engine.connection) == (False, [True, False])
    with pytest.raises(VenueUnavailable):
        await faulty.submit(make_spec())
    with pytest.raises(VenueUnavailable):
        await faulty.fills_since(T0)
    await faulty.pump()
    assert faulty.connected is False
    await faulty.pump()
    assert (faulty.connected, engine.connection) == (True, [True, False, True])
    inner.send(fill(3))
    await faulty.pump()
    assert engine.fill_ids == ["F-3"], "what was held or sent during the cut is lost"
    assert engine.quotes == [] and inner.requests == []


async def test_random_cuts_follow_the_plan() -> None:
    faulty, _, engine = await faulty_venue(FaultPlan(cut=1.0, max_cut_steps=1))
    await faulty.pump()
    assert faulty.cut and engine.connection == [True, False]


async def test_an_unavailable_request_never_reaches_the_venue() -> None:
    faulty, inner, _ = await faulty_venue(FaultPlan(request_unavailable=1.0))
    with pytest.raises(VenueUnavailable):
        await faulty.submit(make_spec())
    assert inner.requests == []
    assert faulty.submits_delivered == {}


async def test_a_timeout_after_the_venue_acted_leaves_the_request_at_the_venue() -> None:
    faulty, inner, _ = await faulty_venue(FaultPlan(request_timeout_after=1.0))
    spec = make_spec()
    ref = OrderRef(
        client_order_id=spec.client_order_id,
        venue_order_id=None,
        account=spec.account,
        instrument=spec.instrument,
    )
    with pytest.raises(TimeoutError):
        await faulty.submit(spec)
    with pytest.raises(TimeoutError):
        await faulty.cancel(ref)
    with pytest.raises(TimeoutError):
        await faulty.modify(ref, Decimal(2), None, None)
    assert inner.requests == ["submit ord-1", "cancel ord-1", "modify ord-1"]
    assert faulty.submits_delivered == {spec.client_order_id: 1}


async def test_a_lost_request_times_out_and_never_reaches_the_venue() -> None:
    faulty, inner, _ = await faulty_venue(FaultPlan(request_lost=1.0))
    with pytest.raises(TimeoutError):
        await faulty.submit(make_spec())
    assert inner.requests == []


async def test_failed_queries_time_out_and_heal_stops_every_fault() -> None:
    faulty, inner, engine = await faulty_venue(FaultPlan(query_failure=1.0, drop=1.0))
    with pytest.raises(TimeoutError):
        await faulty.fills_since(T0)
    faulty.cut_connection(steps=5)
    faulty.heal()
    assert faulty.connected and engine.connection == [True, False, True]
    assert await faulty.fills_since(T0) == [fill(1)]
    inner.send(fill(2))
    await faulty.drain()
    assert engine.fill_ids == ["F-2"]


async def test_fabricate_fill_invents_a_fill_the_venue_never_made() -> None:
    faulty, inner, engine = await faulty_venue(FaultPlan(fabricate_fill=1.0))
    inner.send(fill(1))
    await faulty.pump()
    await faulty.pump()
    assert engine.fill_ids == ["F-1", "FABRICATED-1"]


async def test_the_same_seed_gives_the_same_faults_and_another_seed_others() -> None:
    plan = FaultPlan(drop=0.2, delay=0.3, duplicate=0.2, reorder=0.3, cut=0.1, request_timeout_after=0.3)

    async def run(seed: int) -> tuple[list[str], list[str]]:
        faulty, inner, engine = await faulty_venue(plan, seed)
        for number in range(1, 40):
            inner.send(fill(number))
            with contextlib.suppress(TimeoutError, VenueUnavailable):
                await faulty.submit(make_spec(client_order_id=f"ord-{number}"))
            await faulty.pump()
        return engine.fill_ids, [msgspec.json.encode(i).decode() for i in faulty.injected]

    first, again, other = await run(1), await run(1), await run(2)
    assert first == again
    assert first != other


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"drop": 1.5}, "drop is 1.5"),
        ({"delay": -0.1}, "delay is -0.1"),
        ({"request_unavailable": 0.6, "request_lost": 0.6}, "request faults add up to 1.2"),
        ({"max_cut_steps": 0}, "max_cut_steps is 0"),
    ],
)
def test_a_bad_plan_is_refused_with_what_is_accepted(fields: dict[str, float], problem: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=problem) as raised:
        msgspec.convert(fields, FaultPlan)
    assert "accepted: probabilities from 0 to 1" in str(raised.value)


def test_a_plan_with_an_unknown_fault_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field `explode`"):
        msgspec.convert({"explode": 0.5}, FaultPlan)
