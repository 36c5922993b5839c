"""Random streams of signals, amends, cancels and market steps against random limits, through the
whole engine (journal, gate, paper venue). After every step:

- no position of the portfolio, an account or a strategy exceeds its `max_position_quantity`,
  neither in our ledger nor at the venue;
- no scope has more open orders than its `max_open_orders`;
- every order the venue received passed the gate: it was journaled as pending-new, and no denied
  order is known to the venue.
"""

import asyncio
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.risk.fakes import VenueSpy, settle
from tests.runtime.engines import paper_of, running_engine
from tradewire.domain.enums import OPEN_STATUSES, OrderStatus, SignalOutcome
from tradewire.domain.errors import Conflict, InvalidInput
from tradewire.domain.events import OrderCreated
from tradewire.domain.ids import InstrumentId
from tradewire.journal.sqlite import sqlite_journal
from tradewire.runtime.node import Engine

ACCOUNTS = ("paper-1", "paper-2")
STRATEGIES = ("s1", "s2", "s3")
INSTRUMENTS = ("AAPL", "MSFT")


@dataclass(frozen=True)
class Send:
    strategy: str
    account: str
    instrument: str
    side: str
    quantity: int
    kind: str
    """market, passive (a dollar off the touch: rests) or touch (at the touch: fills on a step)."""
    reduce_only: bool


@dataclass(frozen=True)
class Cancel:
    pick: int


@dataclass(frozen=True)
class Amend:
    pick: int
    quantity: int


@dataclass(frozen=True)
class Step:
    pass


Action = Send | Cancel | Amend | Step

sends = st.builds(
    Send,
    strategy=st.sampled_from(STRATEGIES),
    account=st.sampled_from(ACCOUNTS),
    instrument=st.sampled_from(INSTRUMENTS),
    side=st.sampled_from(["buy", "sell"]),
    quantity=st.integers(1, 12),
    kind=st.sampled_from(["market", "passive", "touch"]),
    reduce_only=st.sampled_from([False, False, False, True]),
)
actions: st.SearchStrategy[Action] = st.one_of(
    sends,
    sends,
    st.builds(Cancel, pick=st.integers(0, 50)),
    st.builds(Amend, pick=st.integers(0, 50), quantity=st.integers(1, 15)),
    st.just(Step()),
)


def scope_limits() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "max_position_quantity": st.integers(1, 25).map(str),
            "max_open_orders": st.integers(1, 6),
            "max_order_quantity": st.integers(1, 12).map(str),
        },
    )


risk_settings = st.fixed_dictionaries(
    {
        "portfolio": scope_limits(),
        "accounts": st.dictionaries(st.sampled_from(ACCOUNTS), scope_limits(), max_size=2),
        "strategies": st.dictionaries(st.sampled_from(STRATEGIES), scope_limits(), max_size=3),
    }
)


def _scopes_of(account: str, strategy: str) -> tuple[str, ...]:
    return ("portfolio", f"account:{account}", f"strategy:{strategy}", "venue:paper")


def _signal(engine: Engine, send: Send) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "strategy": send.strategy,
        "account": send.account,
        "instrument": send.instrument,
        "side": send.side,
        "quantity": str(send.quantity),
        "reduce_only": send.reduce_only,
    }
    if send.kind != "market":
        quote = engine.manager.quotes.get(InstrumentId(send.instrument))
        assert quote is not None
        buy = send.side == "buy"
        touch = quote.bid if buy else quote.ask
        if send.kind == "passive":
            touch = touch - Decimal(1) if buy else touch + Decimal(1)
        payload |= {"order_type": "limit", "limit_price": str(touch)}
    return payload


async def _act(engine: Engine, action: Action) -> None:
    service = engine.service
    if isinstance(action, Send):
        result = await service.submit_signal(_signal(engine, action))
        assert result.outcome in (SignalOutcome.ACCEPTED, SignalOutcome.DENIED)
        event(f"signal {result.outcome}: {result.reason_code}")
    elif isinstance(action, Step):
        await paper_of(engine).step()
    else:
        live = [
            o
            for o in engine.manager.ledger.open_orders.values()
            if o.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)
        ]
        if not live:
            return
        order = live[action.pick % len(live)]
        try:
            if isinstance(action, Cancel):
                await service.cancel_order(order.client_order_id, "property")
            else:
                await service.modify_order(
                    order.client_order_id, "property", quantity=Decimal(action.quantity)
                )
        except (Conflict, InvalidInput):
            pass  # an amend below the filled quantity, or an order that just ended: refused, nothing sent
    await settle()


async def _check(engine: Engine, limits: dict[str, Any], spy: VenueSpy) -> None:
    ledger = engine.manager.ledger
    configured = {"portfolio": limits["portfolio"]}
    configured |= {f"account:{a}": v for a, v in limits["accounts"].items()}
    configured |= {f"strategy:{s}": v for s, v in limits["strategies"].items()}

    positions: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for p in ledger.portfolio.by_strategy.values():
        for scope in _scopes_of(p.account, p.strategy or ""):
            positions[(scope, p.instrument)] += p.quantity
    venue = paper_of(engine)
    for report in await venue.positions():
        assert positions[(f"account:{report.account}", report.instrument)] == report.quantity
    open_counts: defaultdict[str, int] = defaultdict(int)
    for order in ledger.open_orders.values():
        for scope in _scopes_of(order.account, order.strategy):
            open_counts[scope] += 1
    for (scope, instrument), quantity in positions.items():
        limit = configured.get(scope, {}).get("max_position_quantity")
        if limit is not None:
            assert abs(quantity) <= Decimal(limit), f"{scope} holds {quantity} {instrument} > limit {limit}"
    for scope, count in open_counts.items():
        limit = configured.get(scope, {}).get("max_open_orders")
        if limit is not None:
            assert count <= limit, f"{scope} has {count} open orders > limit {limit}"
    venue_open = await venue.open_orders()
    assert len(venue_open) <= sum(1 for o in ledger.open_orders.values() if o.status in OPEN_STATUSES)

    created = {
        record.spec.client_order_id
        for _, record in sqlite_journal(engine.settings.journal_path).replay()
        if isinstance(record, OrderCreated)
    }
    assert spy.submitted_ids <= created
    assert {r.client_order_id for r in venue_open} <= created
    for order in ledger.orders.values():
        if order.status is OrderStatus.DENIED:
            assert order.client_order_id not in spy.submitted_ids
            assert await venue.order_status(order.client_order_id) is None


async def _run(directory: Path, limits: dict[str, Any], stream: list[Action]) -> None:
    async with running_engine(
        directory,
        risk=limits,
        accounts=[{"id": a} for a in ACCOUNTS],
        journal={"durability": "os"},
    ) as engine:
        spy = VenueSpy(engine)
        for action in stream:
            await _act(engine, action)
            await _check(engine, limits, spy)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(limits=risk_settings, stream=st.lists(actions, min_size=10, max_size=40))
def test_no_stream_of_orders_gets_past_the_limits(limits: dict[str, Any], stream: list[Action]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(_run(Path(directory), limits, stream))
