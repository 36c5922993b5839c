"""Property: whatever orders and quotes come, fills respect quantities, lots and ticks, and
positions are the signed sum of fills."""

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tradewire.domain.enums import OrderType, Side, TimeInForce
from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId
from tradewire.domain.values import ZERO
from tradewire.venues.paper import PaperVenue

from .support import START, Recorder, make_venue, ref, settle, spec

UNITS = {"AAPL": Decimal(1), "BTC/USDT": Decimal("0.001"), "EURUSD": Decimal(1000), "ESZ6": Decimal(1)}
ACCOUNTS = ("acct-1", "acct-2")


@dataclass(frozen=True)
class Submit:
    instrument: str
    account: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    units: int
    limit_offset: int
    stop_offset: int


@dataclass(frozen=True)
class Step:
    count: int


@dataclass(frozen=True)
class Cancel:
    index: int


@dataclass(frozen=True)
class Modify:
    index: int
    units: int
    limit_offset: int


offsets = st.integers(-6, 6)
actions = st.lists(
    st.one_of(
        st.builds(
            Submit,
            st.sampled_from(sorted(UNITS)),
            st.sampled_from(ACCOUNTS),
            st.sampled_from(Side),
            st.sampled_from(OrderType),
            st.sampled_from(TimeInForce),
            st.integers(1, 2500),
            offsets,
            offsets,
        ),
        st.builds(Step, st.integers(1, 4)),
        st.builds(Cancel, st.integers(0, 40)),
        st.builds(Modify, st.integers(0, 40), st.integers(1, 2500), offsets),
    ),
    max_size=40,
)


def price(venue: PaperVenue, instrument: str, side: Side, offset: int) -> str:
    quote = venue.current_quote(InstrumentId(instrument))
    assert quote is not None
    tick = next(i.tick_size for i in venue.instruments() if i.instrument_id == instrument)
    return str(max(tick, quote.touch(side) + offset * tick))


async def run(seed: int, script: list[Submit | Step | Cancel | Modify]) -> int:
    """Play the script against a fresh venue, check it, and return how many fills it made."""
    venue, _ = make_venue(seed=seed)
    recorder = Recorder()
    await venue.connect(recorder.on_report, recorder.on_quote, recorder.on_connection)
    submitted = []
    for number, action in enumerate(script):
        if isinstance(action, Submit):
            order = spec(
                f"o-{number}",
                instrument=action.instrument,
                account=AccountId(action.account),
                side=action.side,
                quantity=str(UNITS[action.instrument] * action.units),
                order_type=action.order_type,
                time_in_force=action.time_in_force,
                limit_price=price(venue, action.instrument, action.side, action.limit_offset)
                if action.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
                else None,
                stop_price=price(venue, action.instrument, action.side, action.stop_offset)
                if action.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
                else None,
            )
            submitted.append(order)
            await venue.submit(order)
        elif isinstance(action, Step):
            await venue.step(action.count)
        elif submitted:
            order = submitted[action.index % len(submitted)]
            if isinstance(action, Cancel):
                await venue.cancel(ref(order))
            else:
                await venue.modify(
                    ref(order),
                    UNITS[order.instrument] * action.units,
                    Decimal(price(venue, order.instrument, order.side, action.limit_offset))
                    if order.limit_price is not None
                    else None,
                    order.stop_price,
                )
    await settle()
    await check(venue, recorder)
    return len(recorder.fills())


async def check(venue: PaperVenue, recorder: Recorder) -> None:
    rules = {i.instrument_id: i for i in venue.instruments()}
    fills = await venue.fills_since(START)
    assert [f.fill_id for f in fills] == [f.fill_id for f in recorder.fills()]
    filled: dict[ClientOrderId, Decimal] = defaultdict(lambda: ZERO)
    held: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for fill in fills:
        rule = rules[fill.instrument]
        assert fill.quantity > 0
        assert fill.quantity % rule.lot_size == 0
        assert fill.price % rule.tick_size == 0
        filled[fill.client_order_id] += fill.quantity
        held[(fill.account, fill.instrument)] += fill.quantity * fill.side.sign
    for client_order_id, quantity in filled.items():
        status = await venue.order_status(client_order_id)
        assert status is not None
        assert status.filled_quantity == quantity
        assert quantity <= status.quantity
    positions = {(p.account, p.instrument): p.quantity for p in await venue.positions()}
    assert positions == {key: q for key, q in held.items() if q != 0}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), script=actions)
def test_fills_never_exceed_orders_respect_lot_and_tick_and_sum_to_positions(
    seed: int, script: list[Submit | Step | Cancel | Modify]
) -> None:
    fill_count = asyncio.run(run(seed, script))
    event("fills" if fill_count else "no fills")
