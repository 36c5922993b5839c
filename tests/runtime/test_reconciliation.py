"""What reconciliation does with what the journal does not know: orders open at the venue are
adopted or cancelled by policy, and a position break halts the account (never a silent flatten)."""

import asyncio
from decimal import Decimal
from pathlib import Path

from tests.runtime.engines import paper_of, running_engine
from tradewire.domain.enums import (
    OrderStatus,
    OrderType,
    Side,
    SignalOutcome,
    TimeInForce,
    TradingState,
    VenueOrderStatus,
)
from tradewire.domain.events import OrderCanceled, OrderSpec
from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId, StrategyId, VenueId
from tradewire.domain.limits import Scope, ScopeKind
from tradewire.runtime.node import Engine

ACCOUNT = Scope(ScopeKind.ACCOUNT, "paper-1")


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def place_behind_the_engines_back(
    engine: Engine, order_type: OrderType, quantity: str
) -> ClientOrderId:
    """An order placed at the venue by someone else (a person on the broker's screen)."""
    client_order_id = ClientOrderId(f"MANUAL-{order_type}")
    spec = OrderSpec(
        client_order_id=client_order_id,
        account=AccountId("paper-1"),
        strategy=StrategyId("nobody"),
        instrument=InstrumentId("AAPL"),
        venue=VenueId("paper"),
        side=Side.BUY,
        order_type=order_type,
        quantity=Decimal(quantity),
        time_in_force=TimeInForce.GTC,
        limit_price=Decimal("1") if order_type is OrderType.LIMIT else None,
    )
    await paper_of(engine).submit(spec)
    await settle()
    return client_order_id


async def test_an_order_open_at_the_venue_but_not_in_the_journal_is_adopted_and_counted(
    tmp_path: Path,
) -> None:
    async with running_engine(tmp_path) as engine:
        manual = await place_behind_the_engines_back(engine, OrderType.LIMIT, "5")
        [report] = await engine.service.reconcile()
        assert report.unknown_venue_orders == (manual,)
        assert report.adopted_orders == (manual,)
        assert not report.clean, "an unknown order is worth a person's look even when adopted"
        order = engine.service.order(manual)
        assert (order.strategy, order.status, order.quantity) == (
            "external",
            OrderStatus.ACCEPTED,
            Decimal(5),
        )
        assert engine.manager.ledger.working.working(Side.BUY, InstrumentId("AAPL")) == 5
        [again] = await engine.service.reconcile()
        assert (again.unknown_venue_orders, again.adopted_orders) == ((), ())


async def test_with_the_cancel_policy_an_unknown_order_is_cancelled_at_the_venue(tmp_path: Path) -> None:
    async with running_engine(tmp_path, reconciliation={"unknown_orders": "cancel"}) as engine:
        manual = await place_behind_the_engines_back(engine, OrderType.LIMIT, "5")
        [report] = await engine.service.reconcile()
        await settle()
        assert report.canceled_orders == (manual,)
        assert await paper_of(engine).open_orders() == []


async def test_a_position_break_halts_the_account_and_flattens_nothing(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        await place_behind_the_engines_back(engine, OrderType.MARKET, "3")  # fills at once, never open
        [report] = await engine.service.reconcile()
        [difference] = report.position_differences
        assert (difference.ours, difference.venue) == (Decimal(0), Decimal(3))
        assert report.halted_accounts == ("paper-1",)
        assert engine.manager.ledger.state_of(ACCOUNT) is TradingState.HALTED
        denied = await engine.service.submit_signal(
            {"strategy": "s", "instrument": "AAPL", "side": "sell", "quantity": "1"}
        )
        assert (denied.outcome, denied.reason_code) == (SignalOutcome.DENIED, "trading_halted")
        [venue_position] = await paper_of(engine).positions()
        assert venue_position.quantity == 3, "the venue's position is left alone"


async def test_a_break_within_the_tolerance_is_reported_but_halts_nothing(tmp_path: Path) -> None:
    async with running_engine(tmp_path, reconciliation={"position_tolerance": "5"}) as engine:
        await place_behind_the_engines_back(engine, OrderType.MARKET, "3")
        [report] = await engine.service.reconcile()
        assert len(report.position_differences) == 1
        assert report.halted_accounts == ()
        assert engine.manager.ledger.state_of(ACCOUNT) is TradingState.ACTIVE


async def test_an_order_finished_here_but_still_open_at_the_venue_is_cancelled_there(tmp_path: Path) -> None:
    """A submit given up as never arrived that reached the venue after all must not keep working."""
    async with running_engine(tmp_path) as engine:
        result = await engine.service.submit_signal(
            {
                "strategy": "trend",
                "instrument": "AAPL",
                "side": "buy",
                "quantity": "3",
                "order_type": "limit",
                "limit_price": "1",
            }
        )
        assert result.outcome is SignalOutcome.ACCEPTED
        [order_id] = result.client_order_ids
        await settle()
        manager = engine.manager
        manager.record(OrderCanceled(**manager.stamp(), client_order_id=order_id, reason="given up"))
        assert (await paper_of(engine).order_status(order_id)).status is VenueOrderStatus.ACCEPTED  # type: ignore[union-attr]

        [report] = await engine.service.reconcile()
        await settle()

        assert report.stale_venue_orders == (order_id,)
        assert not report.clean
        assert (await paper_of(engine).order_status(order_id)).status is VenueOrderStatus.CANCELED  # type: ignore[union-attr]
        [again] = await engine.service.reconcile()
        assert again.stale_venue_orders == ()
