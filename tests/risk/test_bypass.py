"""Trying to get round the risk limits through the engine itself: a real journal, the paper venue,
the service every front end uses. Each test checks what the venue received, not only our answer."""

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from tests.risk.fakes import VenueSpy, passive_buy, settle, signal, venue_position, venue_working
from tests.runtime.engines import engine_settings, paper_of, running_engine
from tradewire.domain.enums import OrderStatus, Side, SignalOutcome, TradingState
from tradewire.domain.signals import Signal
from tradewire.oms.results import SignalResult
from tradewire.runtime.node import Engine

TWO_ACCOUNTS = [{"id": "paper-1"}, {"id": "paper-2"}]


def account_limits(account: str, **fields: str | int) -> dict[str, dict[str, dict[str, str | int]]]:
    return {"accounts": {account: fields}}


async def fill(engine: Engine, payload: dict[str, object]) -> SignalResult:
    """Send a market signal and let it fill."""
    result = await engine.service.submit_signal(payload)
    assert result.outcome is SignalOutcome.ACCEPTED, result.reason
    await settle()
    return result


# --- amends ---


async def test_amending_a_working_order_past_a_position_limit_is_denied_and_not_sent(tmp_path: Path) -> None:
    risk = account_limits("paper-1", max_position_quantity="100")
    async with running_engine(tmp_path, risk=risk) as engine:
        spy = VenueSpy(engine)
        placed = await engine.service.submit_signal(passive_buy(engine, "s", "60"))
        await settle()
        order_id = placed.client_order_ids[0]
        assert engine.service.order(order_id).status is OrderStatus.ACCEPTED
        amend = await engine.service.modify_order(order_id, "trader", quantity=Decimal(150))
        await settle()
        assert amend.denied and amend.reason_code == "position_limit"
        assert amend.reason == "position 0 + working buy 0 + order 150 > limit 100 AAPL, account:paper-1"
        order = engine.service.order(order_id)
        assert (order.status, order.quantity) == (OrderStatus.ACCEPTED, Decimal(60))
        assert spy.amended == []
        assert await venue_working(engine) == 60


async def test_amending_up_to_exactly_the_limit_passes_because_the_order_s_own_quantity_is_set_aside(
    tmp_path: Path,
) -> None:
    risk = account_limits("paper-1", max_position_quantity="100", max_open_orders=1)
    async with running_engine(tmp_path, risk=risk) as engine:
        placed = await engine.service.submit_signal(passive_buy(engine, "s", "60"))
        await settle()
        amend = await engine.service.modify_order(placed.client_order_ids[0], "trader", quantity=Decimal(100))
        await settle()
        assert not amend.denied
        assert await venue_working(engine) == 100


async def test_a_new_order_while_an_amend_up_is_in_flight_cannot_exceed_the_limit(tmp_path: Path) -> None:
    """Two paths are individually within the limit; together the venue would work more than it."""
    risk = account_limits("paper-1", max_position_quantity="100")
    async with running_engine(tmp_path, risk=risk, paper={"latency_ms": 30}) as engine:
        placed = await engine.service.submit_signal(passive_buy(engine, "s", "40"))
        await asyncio.sleep(0.1)
        amend = await engine.service.modify_order(placed.client_order_ids[0], "trader", quantity=Decimal(90))
        assert not amend.denied  # 0 + 0 + 90 <= 100
        second = await engine.service.submit_signal(passive_buy(engine, "s", "60"))
        await asyncio.sleep(0.2)
        working = await venue_working(engine)
        assert second.outcome is SignalOutcome.DENIED, f"the venue now works {working} against a limit of 100"


# --- many orders at once ---


async def test_fifty_resting_orders_at_once_never_work_more_than_the_position_limit(tmp_path: Path) -> None:
    risk = account_limits("paper-1", max_position_quantity="20")
    async with running_engine(tmp_path, risk=risk) as engine:
        spy = VenueSpy(engine)
        payload = passive_buy(engine, "s", "1")
        results = await asyncio.gather(*(engine.service.submit_signal(payload) for _ in range(50)))
        await settle()
        outcomes = [r.outcome for r in results]
        assert outcomes.count(SignalOutcome.ACCEPTED) == 20
        denied = [r for r in results if r.outcome is SignalOutcome.DENIED]
        assert all(r.reason_code == "position_limit" for r in denied)
        assert denied[0].reason == "position 0 + working buy 20 + order 1 > limit 20 AAPL, account:paper-1"
        assert len(spy.submitted) == 20
        assert await venue_working(engine) == 20


async def test_fifty_market_orders_at_once_never_fill_past_the_position_limit(tmp_path: Path) -> None:
    risk = {"portfolio": {"max_position_quantity": "20"}}
    async with running_engine(tmp_path, risk=risk) as engine:
        spy = VenueSpy(engine)
        results = await asyncio.gather(
            *(engine.service.submit_signal(signal(f"s{i % 3}", "buy", "1")) for i in range(50))
        )
        for _ in range(5):
            await settle()
            await paper_of(engine).step()
        await settle()
        assert [r.outcome for r in results].count(SignalOutcome.ACCEPTED) == 20
        assert len(spy.submitted) == 20
        assert await venue_position(engine, "paper-1") == 20


async def test_signals_racing_for_the_last_units_of_a_limit_get_exactly_those_units(tmp_path: Path) -> None:
    risk = account_limits("paper-1", max_position_quantity="10")
    async with running_engine(tmp_path, risk=risk) as engine:
        await fill(engine, signal("s", "buy", "7"))
        results = await asyncio.gather(
            *(engine.service.submit_signal(signal("s", "buy", "1")) for _ in range(10))
        )
        await settle()
        assert [r.outcome for r in results].count(SignalOutcome.ACCEPTED) == 3
        assert await venue_position(engine, "paper-1") == 10
        late = [r for r in results if r.outcome is SignalOutcome.DENIED]
        assert {r.reason for r in late} <= {
            "position 7 + working buy 3 + order 1 > limit 10 AAPL, account:paper-1",
            "position 8 + working buy 2 + order 1 > limit 10 AAPL, account:paper-1",
            "position 9 + working buy 1 + order 1 > limit 10 AAPL, account:paper-1",
            "position 10 + working buy 0 + order 1 > limit 10 AAPL, account:paper-1",
        }


async def test_a_rate_limit_lets_a_burst_of_concurrent_signals_through_and_denies_the_rest(
    tmp_path: Path,
) -> None:
    risk = {"strategies": {"s": {"max_orders_per_second": "1", "order_burst": 5}}}
    async with running_engine(tmp_path, risk=risk) as engine:
        spy = VenueSpy(engine)
        results = await asyncio.gather(
            *(engine.service.submit_signal(passive_buy(engine, "s", "1")) for _ in range(12))
        )
        assert [r.outcome for r in results].count(SignalOutcome.ACCEPTED) == 5
        denied = [r for r in results if r.outcome is SignalOutcome.DENIED]
        assert {r.reason for r in denied} == {"more than 1 orders a second (burst 5), strategy:s"}
        assert len(spy.submitted) == 5


# --- every front end meets the same gate ---


@pytest.mark.parametrize("form", ["json bytes", "json text", "dict", "Signal"])
async def test_a_manual_order_in_any_form_the_service_takes_meets_the_same_gate(
    tmp_path: Path, form: str
) -> None:
    risk = account_limits("paper-1", max_order_quantity="5")
    body = '{"strategy": "manual", "instrument": "AAPL", "side": "buy", "quantity": "6"}'
    payloads: dict[str, bytes | str | dict[str, object] | Signal] = {
        "json bytes": body.encode(),
        "json text": body,
        "dict": signal("manual", "buy", "6"),
        "Signal": Signal(strategy="manual", instrument="AAPL", side=Side.BUY, quantity=Decimal(6)),
    }
    async with running_engine(tmp_path, risk=risk) as engine:
        spy = VenueSpy(engine)
        result = await engine.service.submit_signal(payloads[form])
        assert result.outcome is SignalOutcome.DENIED
        assert result.reason == "order quantity 6 > limit 5 AAPL, account:paper-1"
        assert spy.submitted == []
        [order] = engine.service.orders()
        assert order.status is OrderStatus.DENIED


# --- accounts ---


async def test_one_account_s_limit_does_not_leak_to_another_and_the_portfolio_caps_both(
    tmp_path: Path,
) -> None:
    risk = {
        "portfolio": {"max_position_quantity": "60"},
        "accounts": {"paper-1": {"max_position_quantity": "10"}},
    }
    async with running_engine(tmp_path, risk=risk, accounts=TWO_ACCOUNTS) as engine:
        spy = VenueSpy(engine)
        await fill(engine, signal("s", "buy", "10", account="paper-1"))
        over = await engine.service.submit_signal(signal("s", "buy", "1", account="paper-1"))
        assert over.reason == "position 10 + working buy 0 + order 1 > limit 10 AAPL, account:paper-1"
        await fill(engine, signal("s", "buy", "50", account="paper-2"))
        capped = await engine.service.submit_signal(signal("s", "buy", "1", account="paper-2"))
        assert capped.outcome is SignalOutcome.DENIED
        assert capped.reason == "position 60 + working buy 0 + order 1 > limit 60 AAPL, portfolio"
        assert len(spy.submitted) == 2
        assert await venue_position(engine, "paper-1") == 10
        assert await venue_position(engine, "paper-2") == 50


async def test_a_strategy_limit_caps_the_strategy_across_accounts(tmp_path: Path) -> None:
    risk = {"strategies": {"s": {"max_position_quantity": "10"}}}
    async with running_engine(tmp_path, risk=risk, accounts=TWO_ACCOUNTS) as engine:
        await fill(engine, signal("s", "buy", "6", account="paper-1"))
        await fill(engine, signal("s", "buy", "4", account="paper-2"))
        denied = await engine.service.submit_signal(signal("s", "buy", "1", account="paper-2"))
        assert denied.reason == "position 10 + working buy 0 + order 1 > limit 10 AAPL, strategy:s"
        other = await engine.service.submit_signal(signal("t", "buy", "1", account="paper-2"))
        assert other.outcome is SignalOutcome.ACCEPTED


# --- the kill switch on the order path ---


async def test_flatten_while_halted_sends_only_reduce_only_orders_and_ends_flat(tmp_path: Path) -> None:
    async with running_engine(tmp_path, accounts=TWO_ACCOUNTS) as engine:
        await fill(engine, signal("a", "buy", "30", account="paper-1"))
        await fill(engine, signal("b", "buy", "20", account="paper-1"))
        await fill(engine, signal("a", "buy", "15", account="paper-2"))
        resting = await engine.service.submit_signal(passive_buy(engine, "b", "5", account="paper-1"))
        await settle()
        spy = VenueSpy(engine)
        halted = await engine.service.engage_kill_switch("portfolio", "risk officer", "test")
        assert halted.state is TradingState.HALTED and halted.canceled == tuple(resting.client_order_ids)
        result = await engine.service.engage_kill_switch("portfolio", "risk officer", "flatten", flatten=True)
        assert result.state is TradingState.REDUCING
        assert [o.denied for o in result.flatten_orders if o.denied] == []
        await settle()
        await paper_of(engine).step()
        await settle()
        assert spy.submitted, "the flatten sent nothing"
        for spec in spy.submitted:
            assert spec.reduce_only
        sent = sorted((s.account, s.strategy, s.side.value, s.quantity) for s in spy.submitted)
        assert sent == [
            ("paper-1", "a", "sell", Decimal(30)),
            ("paper-1", "b", "sell", Decimal(20)),
            ("paper-2", "a", "sell", Decimal(15)),
        ]
        assert await venue_position(engine, "paper-1") == 0
        assert await venue_position(engine, "paper-2") == 0
        assert [p for p in engine.service.positions() if p.quantity] == []
        assert await venue_working(engine) == 0


async def test_flatten_ends_flat_when_one_account_is_long_and_another_short(tmp_path: Path) -> None:
    async with running_engine(tmp_path, accounts=TWO_ACCOUNTS) as engine:
        await fill(engine, signal("a", "buy", "30", account="paper-1"))
        await fill(engine, signal("b", "buy", "20", account="paper-1"))
        await fill(engine, signal("a", "sell", "15", account="paper-2"))
        result = await engine.service.engage_kill_switch("portfolio", "risk officer", "flatten", flatten=True)
        await settle()
        await paper_of(engine).step()
        await settle()
        assert [o.denied for o in result.flatten_orders if o.denied] == []
        assert await venue_position(engine, "paper-1") == 0
        assert await venue_position(engine, "paper-2") == 0


async def test_no_order_of_a_fanned_out_signal_reaches_the_venue_after_the_kill_switch(
    tmp_path: Path,
) -> None:
    allocations = {"s": {"method": "weights", "accounts": {"paper-1": "1", "paper-2": "1"}}}
    async with running_engine(tmp_path, accounts=TWO_ACCOUNTS, allocations=allocations) as engine:
        spy = VenueSpy(engine, submit_delay=0.02)
        racing = asyncio.ensure_future(engine.service.submit_signal(passive_buy(engine, "s", "10")))
        await spy.submitting.wait()
        on_the_wire = list(spy.started)
        switch = await engine.service.engage_kill_switch("portfolio", "risk officer", "test")
        placed = await racing
        await asyncio.sleep(0.1)
        assert len(placed.client_order_ids) == 2 and switch.state is TradingState.HALTED
        # The order already on its way arrives (bytes on the wire cannot be recalled); no other does.
        assert [spec for spec in spy.started if spec not in on_the_wire] == [], "sent after the switch"
        assert await venue_working(engine) == 0, "the order in flight is canceled once the venue has it"
        statuses = {engine.service.order(i).status for i in placed.client_order_ids}
        assert statuses == {OrderStatus.CANCELED}


async def test_every_signal_handled_after_the_kill_switch_is_denied_and_never_reaches_the_venue(
    tmp_path: Path,
) -> None:
    async with running_engine(tmp_path) as engine:
        spy = VenueSpy(engine)
        service = engine.service
        before = [service.submit_signal(passive_buy(engine, "s", "1")) for _ in range(10)]
        engage = service.engage_kill_switch("portfolio", "risk officer", "test")
        after = [service.submit_signal(passive_buy(engine, "s", "1")) for _ in range(10)]
        results = await asyncio.gather(*before, engage, *after)
        await settle()
        late = results[11:]
        assert all(isinstance(r, SignalResult) and r.outcome is SignalOutcome.DENIED for r in late)
        assert {r.reason_code for r in late if isinstance(r, SignalResult)} == {"trading_halted"}
        late_ids = {i for r in late if isinstance(r, SignalResult) for i in r.client_order_ids}
        assert late_ids and not late_ids & spy.submitted_ids


async def test_an_order_admitted_just_before_the_kill_switch_does_not_stay_working_after_it(
    tmp_path: Path,
) -> None:
    """The switch cancels working orders; an order that passed risk a moment earlier and is being
    journaled (pending-new) must not slip out to the venue afterwards and stay there."""
    async with running_engine(tmp_path) as engine:
        service = engine.service
        racing = asyncio.ensure_future(service.submit_signal(passive_buy(engine, "s", "1")))
        await asyncio.sleep(0)  # the signal passes risk and waits for the journal
        switch = await service.engage_kill_switch("portfolio", "risk officer", "test")
        placed = await racing
        await settle()
        assert placed.outcome is SignalOutcome.ACCEPTED
        assert switch.state is TradingState.HALTED
        assert await venue_working(engine) == 0, f"canceled {switch.canceled}; still working at the venue"


async def test_a_reduce_only_signal_that_would_flip_the_position_is_denied(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        await fill(engine, signal("s", "buy", "5"))
        spy = VenueSpy(engine)
        result = await engine.service.submit_signal(signal("s", "sell", "6", reduce_only=True))
        assert result.outcome is SignalOutcome.DENIED and result.reason_code == "reduce_only_would_increase"
        assert (
            result.reason
            == "reduce-only sell of 6 AAPL would not reduce position 5 (working sell 0), account:paper-1"
        )
        assert spy.submitted == []
        exact = await engine.service.submit_signal(signal("s", "sell", "5", reduce_only=True))
        assert exact.outcome is SignalOutcome.ACCEPTED


async def test_a_target_position_signal_while_halted_is_denied(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        spy = VenueSpy(engine)
        await engine.service.engage_kill_switch("account:paper-1", "risk officer", "test")
        result = await engine.service.submit_signal(
            {"strategy": "t", "instrument": "AAPL", "target_position": "30"}
        )
        assert result.outcome is SignalOutcome.DENIED and result.reason_code == "trading_halted"
        assert result.reason == "trading is halted by the kill switch at account:paper-1; only cancels pass"
        assert spy.submitted == []


async def test_an_amend_while_halted_is_denied_and_not_sent(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        placed = await engine.service.submit_signal(passive_buy(engine, "s", "5"))
        await settle()
        spy = VenueSpy(engine)
        await engine.service.engage_kill_switch("strategy:s", "risk officer", "test", cancel_working=False)
        amend = await engine.service.modify_order(placed.client_order_ids[0], "trader", quantity=Decimal(6))
        assert amend.denied and amend.reason_code == "trading_halted"
        assert spy.amended == []


async def test_resume_re_arms_and_orders_pass_again(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        await engine.service.engage_kill_switch("portfolio", "risk officer", "test")
        halted = await engine.service.submit_signal(signal("s", "buy", "1"))
        assert halted.reason_code == "trading_halted"
        await engine.service.resume("portfolio", "risk officer", "all clear")
        spy = VenueSpy(engine)
        result = await engine.service.submit_signal(signal("s", "buy", "1"))
        assert result.outcome is SignalOutcome.ACCEPTED
        assert spy.submitted_ids == set(result.client_order_ids)


# --- holes in how an order is valued ---


async def test_a_sell_limit_priced_through_the_market_cannot_dodge_the_order_notional_limit(
    tmp_path: Path,
) -> None:
    """The order is valued at its limit price; a sell limit far under the bid fills at the bid."""
    risk = account_limits("paper-1", max_order_notional="1000")
    async with running_engine(tmp_path, risk=risk) as engine:
        result = await engine.service.submit_signal(
            signal("s", "sell", "100", order_type="limit", limit_price="0.01")
        )
        await settle()
        traded = sum((f.price * f.quantity for f in engine.service.fills()), Decimal(0))
        assert result.outcome is SignalOutcome.DENIED, (
            f"accepted; it traded {traded} USD against a 1000 limit"
        )


async def test_a_market_order_before_the_first_quote_cannot_dodge_the_order_notional_limit(
    tmp_path: Path,
) -> None:
    """Before the feed's first quote the order has no price; the notional limits then pass it."""
    risk = account_limits("paper-1", max_order_notional="1000")
    async with Engine(engine_settings(tmp_path, risk=risk)) as engine:
        result = await engine.service.submit_signal(signal("s", "buy", "500"))
        await settle()
        assert result.outcome is SignalOutcome.DENIED, "accepted without a price against a 1000 USD limit"


async def test_reducing_at_the_portfolio_does_not_let_another_account_open_a_position(tmp_path: Path) -> None:
    """REDUCING nets the portfolio's position across accounts: a sell in a flat account 'reduces'
    the portfolio's long and opens a short there, doubling the gross position."""
    async with running_engine(tmp_path, accounts=TWO_ACCOUNTS) as engine:
        await fill(engine, signal("s", "buy", "10", account="paper-1"))
        await engine.service.engage_kill_switch(
            "portfolio", "risk officer", "test", state=TradingState.REDUCING
        )
        result = await engine.service.submit_signal(signal("s", "sell", "10", account="paper-2"))
        await settle()
        assert result.outcome is SignalOutcome.DENIED, (
            f"paper-2 now holds {await venue_position(engine, 'paper-2')} while the portfolio is reducing"
        )
