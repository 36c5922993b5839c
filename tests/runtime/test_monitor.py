"""The kill switch engages by itself on a daily loss, a venue down too long, a reject-rate spike
and stale market data; it never re-arms by itself."""

import asyncio
from datetime import timedelta
from pathlib import Path

from tests.runtime.engines import paper_of, running_engine
from tradewire.domain.enums import OrderStatus, SignalOutcome, TradingState
from tradewire.domain.limits import PORTFOLIO, Scope, ScopeKind
from tradewire.runtime.monitor import KillSwitchMonitor
from tradewire.runtime.node import Engine

PAPER = Scope(ScopeKind.VENUE, "paper")
ACCOUNT = Scope(ScopeKind.ACCOUNT, "paper-1")


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def monitor_of(engine: Engine) -> KillSwitchMonitor:
    assert engine.monitor is not None
    return engine.monitor


async def buy(engine: Engine, quantity: str = "10") -> SignalOutcome:
    result = await engine.service.submit_signal(
        {"strategy": "s", "instrument": "AAPL", "side": "buy", "quantity": quantity}
    )
    await settle()
    return result.outcome


async def test_a_reached_daily_loss_limit_halts_its_scope_and_denies_new_orders(tmp_path: Path) -> None:
    async with running_engine(tmp_path, risk={"accounts": {"paper-1": {"max_daily_loss": "0.01"}}}) as engine:
        assert await buy(engine) is SignalOutcome.ACCEPTED  # crossing the spread and paying fees loses
        await monitor_of(engine).check(engine.clock.now())
        assert engine.manager.ledger.state_of(ACCOUNT) is TradingState.HALTED
        assert engine.manager.ledger.state_of(PORTFOLIO) is TradingState.ACTIVE
        assert await buy(engine) is SignalOutcome.DENIED
        [change] = [s for s in engine.service.trading_states() if s.scope == "account:paper-1"]
        assert change.state is TradingState.HALTED


async def test_a_venue_down_longer_than_allowed_halts_that_venue_only_after_the_grace(tmp_path: Path) -> None:
    async with running_engine(tmp_path, kill_switch={"venue_down_seconds": 30}) as engine:
        paper_of(engine).simulate_disconnect()
        now = engine.clock.now()
        await monitor_of(engine).check(now + timedelta(seconds=10))
        assert engine.manager.ledger.state_of(PAPER) is TradingState.ACTIVE
        await monitor_of(engine).check(now + timedelta(seconds=31))
        assert engine.manager.ledger.state_of(PAPER) is TradingState.HALTED
        paper_of(engine).reconnect()
        await settle()
        await monitor_of(engine).check(now + timedelta(seconds=60))
        assert engine.manager.ledger.state_of(PAPER) is TradingState.HALTED, "only a person re-arms it"


async def test_a_spike_of_venue_rejections_halts_everything(tmp_path: Path) -> None:
    settings = {"paper": {"reject_probability": "1"}, "kill_switch": {"reject_window": 5, "reject_rate": 0.6}}
    async with running_engine(tmp_path, **settings) as engine:
        for _ in range(4):
            await buy(engine, "1")
        await monitor_of(engine).check(engine.clock.now())
        assert engine.manager.ledger.state_of(PORTFOLIO) is TradingState.ACTIVE, "4 answers < window of 5"
        await buy(engine, "1")
        assert all(o.status is OrderStatus.REJECTED for o in engine.service.orders())
        await monitor_of(engine).check(engine.clock.now())
        assert engine.manager.ledger.state_of(PORTFOLIO) is TradingState.HALTED
        await engine.service.resume("portfolio", "test", "rejects understood")
        await monitor_of(engine).check(engine.clock.now())
        assert engine.manager.ledger.state_of(PORTFOLIO) is TradingState.ACTIVE, (
            "the same rejections count once"
        )


async def test_stale_quotes_for_an_instrument_held_halt_its_venue(tmp_path: Path) -> None:
    async with running_engine(tmp_path, kill_switch={"stale_quote_seconds": 5}) as engine:
        assert await buy(engine) is SignalOutcome.ACCEPTED
        now = engine.clock.now()
        await monitor_of(engine).check(now)
        assert engine.manager.ledger.state_of(PAPER) is TradingState.ACTIVE
        await monitor_of(engine).check(now + timedelta(seconds=6))
        assert engine.manager.ledger.state_of(PAPER) is TradingState.HALTED
        [record] = [s for s in engine.manager.ledger.trading_states.items() if s[0] == "venue:paper"]
        assert record[1] is TradingState.HALTED


async def test_a_daily_loss_with_the_flatten_action_closes_the_position(tmp_path: Path) -> None:
    settings = {
        "risk": {"accounts": {"paper-1": {"max_daily_loss": "0.01"}}},
        "kill_switch": {"on_daily_loss": "flatten"},
    }
    async with running_engine(tmp_path, **settings) as engine:
        await buy(engine)
        await monitor_of(engine).check(engine.clock.now())
        assert engine.manager.ledger.state_of(ACCOUNT) is TradingState.REDUCING
        await settle()
        await paper_of(engine).step()
        await settle()
        [position] = engine.service.positions()
        assert position.quantity == 0
        await monitor_of(engine).check(engine.clock.now())
        assert monitor_of(engine).flat_confirmed == {"account:paper-1"}
        sells = [o for o in engine.service.orders() if o.side == "sell"]
        assert sells
        assert all(o.reduce_only and o.status is OrderStatus.FILLED for o in sells)
