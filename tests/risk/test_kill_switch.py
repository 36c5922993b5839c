"""The kill switch as a trading state per scope: what each state lets through, that it latches, what
engaging it cancels and flattens, and that it survives a restart with the limits in force."""

from decimal import Decimal
from pathlib import Path

import pytest

from tests.risk.fakes import VenueSpy, passive_buy, settle, signal, venue_position, venue_working
from tests.runtime.engines import paper_of, running_engine
from tradewire.domain.enums import OrderStatus, Side, SignalOutcome, TradingState
from tradewire.domain.events import RiskLimitsChanged, TradingStateChanged
from tradewire.domain.ids import AccountId, InstrumentId, StrategyId
from tradewire.domain.limits import Limits
from tradewire.journal.sqlite import sqlite_journal
from tradewire.oms.results import SignalResult
from tradewire.runtime.node import Engine
from tradewire.services.views import TradingStateView

TWO_ACCOUNTS = [{"id": "paper-1"}, {"id": "paper-2"}]


async def fill(engine: Engine, payload: dict[str, object]) -> SignalResult:
    result = await engine.service.submit_signal(payload)
    assert result.outcome is SignalOutcome.ACCEPTED, result.reason
    await settle()
    return result


def states(engine: Engine) -> dict[str, TradingStateView]:
    return {view.scope: view for view in engine.service.trading_states()}


# --- states per scope ---


async def test_halting_one_account_does_not_stop_another(tmp_path: Path) -> None:
    async with running_engine(tmp_path, accounts=TWO_ACCOUNTS) as engine:
        await engine.service.engage_kill_switch("account:paper-1", "risk officer", "test")
        halted = await engine.service.submit_signal(signal("s", "buy", "1", account="paper-1"))
        other = await engine.service.submit_signal(signal("s", "buy", "1", account="paper-2"))
        assert halted.reason == "trading is halted by the kill switch at account:paper-1; only cancels pass"
        assert other.outcome is SignalOutcome.ACCEPTED
        assert states(engine)["account:paper-1"].state is TradingState.HALTED


async def test_halted_denies_even_an_order_that_would_reduce(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        await fill(engine, signal("s", "buy", "5"))
        await engine.service.engage_kill_switch("portfolio", "risk officer", "test")
        result = await engine.service.submit_signal(signal("s", "sell", "5", reduce_only=True))
        assert result.reason_code == "trading_halted"


async def test_a_reducing_strategy_may_only_reduce_and_other_strategies_trade_on(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        await fill(engine, signal("s", "buy", "10"))
        await engine.service.engage_kill_switch(
            "strategy:s", "risk officer", "test", state=TradingState.REDUCING
        )
        grow = await engine.service.submit_signal(signal("s", "buy", "1"))
        assert grow.reason_code == "trading_reducing"
        assert (
            grow.reason
            == "strategy:s is reducing only, and this buy of 1 AAPL would not reduce the position 10 "
            "of strategy:s in account paper-1"
        )
        flip = await engine.service.submit_signal(signal("s", "sell", "11"))
        assert flip.reason_code == "trading_reducing"
        assert (await fill(engine, signal("s", "sell", "4"))).outcome is SignalOutcome.ACCEPTED
        assert (await fill(engine, signal("t", "buy", "3"))).outcome is SignalOutcome.ACCEPTED
        assert await venue_position(engine, "paper-1") == 9


async def test_engaging_with_active_is_refused(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        with pytest.raises(Exception, match="resume"):
            await engine.service.engage_kill_switch("portfolio", "x", "test", state=TradingState.ACTIVE)


async def test_the_kill_switch_latches_until_a_person_resumes_it(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        await engine.service.engage_kill_switch("venue:paper", "risk officer", "test")
        for _ in range(20):
            await paper_of(engine).step()
            await settle()
        assert states(engine)["venue:paper"].state is TradingState.HALTED
        assert (await engine.service.submit_signal(signal("s", "buy", "1"))).reason_code == "trading_halted"
        await engine.service.resume("venue:paper", "risk officer", "checked")
        assert states(engine)["venue:paper"].state is TradingState.ACTIVE
        assert (await engine.service.submit_signal(signal("s", "buy", "1"))).outcome is SignalOutcome.ACCEPTED


# --- cancel working orders ---


async def test_engaging_cancels_the_working_orders_of_that_scope_only(tmp_path: Path) -> None:
    async with running_engine(tmp_path, accounts=TWO_ACCOUNTS) as engine:
        mine = [
            (
                await engine.service.submit_signal(passive_buy(engine, strategy, "1", account="paper-1"))
            ).client_order_ids[0]
            for strategy in ("a", "b")
        ]
        theirs = (
            await engine.service.submit_signal(passive_buy(engine, "a", "1", account="paper-2"))
        ).client_order_ids[0]
        await settle()
        result = await engine.service.engage_kill_switch("account:paper-1", "risk officer", "test")
        await settle()
        assert sorted(result.canceled) == sorted(mine)
        assert {engine.service.order(i).status for i in mine} == {OrderStatus.CANCELED}
        assert engine.service.order(theirs).status is OrderStatus.ACCEPTED
        assert await venue_working(engine, "paper-1") == 0
        assert await venue_working(engine, "paper-2") == 1


async def test_engaging_a_strategy_cancels_its_orders_in_every_account_and_no_other(tmp_path: Path) -> None:
    async with running_engine(tmp_path, accounts=TWO_ACCOUNTS) as engine:
        placed = {
            (strategy, account): (
                await engine.service.submit_signal(passive_buy(engine, strategy, "1", account=account))
            ).client_order_ids[0]
            for strategy in ("a", "b")
            for account in ("paper-1", "paper-2")
        }
        await settle()
        result = await engine.service.engage_kill_switch("strategy:a", "risk officer", "test")
        await settle()
        assert sorted(result.canceled) == sorted(i for (s, _), i in placed.items() if s == "a")
        assert {engine.service.order(i).status for (s, _), i in placed.items() if s == "b"} == {
            OrderStatus.ACCEPTED
        }


async def test_engaging_without_cancel_leaves_working_orders_alone(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        placed = await engine.service.submit_signal(passive_buy(engine, "s", "2"))
        await settle()
        result = await engine.service.engage_kill_switch("portfolio", "r", "test", cancel_working=False)
        assert result.canceled == ()
        assert engine.service.order(placed.client_order_ids[0]).status is OrderStatus.ACCEPTED
        assert states(engine)["portfolio"].flat is False


# --- flatten ---


async def test_flatten_splits_across_the_strategies_holding_the_side_and_ends_flat(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        await fill(engine, signal("a", "buy", "30"))
        await fill(engine, signal("b", "buy", "20"))
        resting = await engine.service.submit_signal(passive_buy(engine, "b", "7"))
        await settle()
        spy = VenueSpy(engine)
        result = await engine.service.engage_kill_switch(
            "account:paper-1", "risk officer", "flat", flatten=True
        )
        assert result.state is TradingState.REDUCING
        assert result.canceled == tuple(resting.client_order_ids)
        assert sorted((o.strategy, o.side.value, o.quantity, o.denied) for o in result.flatten_orders) == [
            ("a", "sell", Decimal(30), None),
            ("b", "sell", Decimal(20), None),
        ]
        assert states(engine)["account:paper-1"].flat is False
        await settle()
        await paper_of(engine).step()
        await settle()
        assert all(spec.reduce_only for spec in spy.submitted) and len(spy.submitted) == 2
        assert await venue_position(engine, "paper-1") == 0
        view = states(engine)["account:paper-1"]
        assert (view.state, view.flat) == (TradingState.REDUCING, True)
        assert {p.strategy: p.quantity for p in engine.service.positions(by_strategy=True)} == {
            "a": Decimal(0),
            "b": Decimal(0),
        }


async def test_flatten_of_a_short_buys_it_back(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        await fill(engine, signal("a", "sell", "12"))
        result = await engine.service.engage_kill_switch("strategy:a", "risk officer", "flat", flatten=True)
        assert [(o.side.value, o.quantity, o.denied) for o in result.flatten_orders] == [
            ("buy", Decimal(12), None)
        ]
        await settle()
        await paper_of(engine).step()
        await settle()
        assert await venue_position(engine, "paper-1") == 0
        assert states(engine)["strategy:a"].flat is True


async def test_flatten_of_a_strategy_offset_by_another_in_the_same_account_ends_flat(tmp_path: Path) -> None:
    """The account is flat (a long 10, c short 10): a's flatten sells 10 as a plain order, since
    the venue, which nets the account, would refuse it as reduce-only; the account is then c's
    short, as c holds it."""
    async with running_engine(tmp_path) as engine:
        spy = VenueSpy(engine)
        await fill(engine, signal("a", "buy", "10"))
        await fill(engine, signal("c", "sell", "10"))
        result = await engine.service.engage_kill_switch("strategy:a", "risk officer", "flat", flatten=True)
        await settle()
        await paper_of(engine).step()
        await settle()
        assert [o.denied for o in result.flatten_orders] == [None]
        assert [(o.side, o.quantity, o.reduce_only) for o in spy.submitted[2:]] == [
            (Side.SELL, Decimal(10), False)
        ]
        assert states(engine)["strategy:a"].flat is True
        assert await venue_position(engine, "paper-1") == -10
        portfolio = engine.manager.ledger.portfolio
        assert portfolio.strategy_quantity(AccountId("paper-1"), StrategyId("c"), InstrumentId("AAPL")) == -10


async def test_flatten_of_a_strategy_that_holds_the_whole_account_position_is_reduce_only(
    tmp_path: Path,
) -> None:
    async with running_engine(tmp_path) as engine:
        spy = VenueSpy(engine)
        await fill(engine, signal("a", "buy", "10"))
        await engine.service.engage_kill_switch("strategy:a", "risk officer", "flat", flatten=True)
        await settle()
        assert [(o.side, o.quantity, o.reduce_only) for o in spy.submitted[1:]] == [
            (Side.SELL, Decimal(10), True)
        ]


# --- journaled and replayed ---


async def test_states_and_limits_are_journaled_and_in_force_after_a_restart(tmp_path: Path) -> None:
    configured = {"accounts": {"paper-1": {"max_position_quantity": "100"}}}
    async with running_engine(tmp_path, risk=configured, accounts=TWO_ACCOUNTS) as engine:
        await fill(engine, signal("s", "buy", "10", account="paper-2"))
        await engine.service.engage_kill_switch("account:paper-1", "risk officer", "halt one")
        await engine.service.engage_kill_switch(
            "strategy:s", "risk officer", "wind down", state=TradingState.REDUCING
        )
        await engine.service.set_limits("strategy:t", {"max_order_quantity": "5"}, "risk officer")
        await engine.service.set_limits("account:paper-1", {"max_position_quantity": "3"}, "risk officer")
        before = {scope: view.state for scope, view in states(engine).items()}
    records = [record for _, record in sqlite_journal(tmp_path / "journal.sqlite").replay()]
    changes = [(r.scope, r.state, r.changed_by) for r in records if isinstance(r, TradingStateChanged)]
    assert changes == [
        ("account:paper-1", TradingState.HALTED, "risk officer"),
        ("strategy:s", TradingState.REDUCING, "risk officer"),
    ]
    limit_changes = [(r.scope, r.changed_by) for r in records if isinstance(r, RiskLimitsChanged)]
    assert limit_changes == [
        ("account:paper-1", "config"),
        ("strategy:t", "risk officer"),
        ("account:paper-1", "risk officer"),
    ]
    async with running_engine(tmp_path, risk=configured, accounts=TWO_ACCOUNTS) as engine:
        spy = VenueSpy(engine)
        assert {scope: view.state for scope, view in states(engine).items()} == before
        assert engine.service.limits()["strategy:t"] == Limits(max_order_quantity=Decimal(5))
        assert engine.service.limits()["account:paper-1"] == Limits(max_position_quantity=Decimal(3))
        halted = await engine.service.submit_signal(signal("t", "buy", "1", account="paper-1"))
        assert halted.reason_code == "trading_halted"
        reducing = await engine.service.submit_signal(signal("s", "buy", "1", account="paper-2"))
        assert reducing.reason_code == "trading_reducing"
        too_big = await engine.service.submit_signal(signal("t", "buy", "6", account="paper-2"))
        assert too_big.reason == "order quantity 6 > limit 5 AAPL, strategy:t"
        assert spy.submitted == []
        await engine.service.resume("account:paper-1", "risk officer", "ok")
        capped = await engine.service.submit_signal(signal("t", "buy", "4", account="paper-1"))
        assert capped.reason == "position 0 + working buy 0 + order 4 > limit 3 AAPL, account:paper-1"


async def test_a_flatten_larger_than_the_order_size_limit_is_split_into_orders_that_fit(
    tmp_path: Path,
) -> None:
    async with running_engine(tmp_path) as engine:
        await fill(engine, signal("s", "buy", "25"))
        await engine.service.set_limits("account:paper-1", {"max_order_quantity": "10"}, "test")
        result = await engine.service.engage_kill_switch("portfolio", "risk officer", "test", flatten=True)
        assert [(o.quantity, o.denied) for o in result.flatten_orders] == [
            (Decimal(10), None),
            (Decimal(10), None),
            (Decimal(5), None),
        ]
        await settle()
        await paper_of(engine).step()
        await settle()
        assert engine.service.positions()[0].quantity == 0
