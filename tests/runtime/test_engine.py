"""The engine end to end in one process: signal -> risk -> journal -> paper venue -> fill -> position."""

import asyncio
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from tests.runtime.engines import engine_settings, paper_of, running_engine
from tradewire.domain.enums import OrderStatus, SignalOutcome, VenueOrderStatus
from tradewire.domain.errors import InvalidInput
from tradewire.domain.events import IllegalTransition, OrderCreated, OrderSubmitted
from tradewire.domain.ids import ClientOrderId, EventId, VenueId
from tradewire.domain.reports import FillReport, OrderStatusReport
from tradewire.journal.backends import FILE_NAMES, Backend, open_journal
from tradewire.journal.sqlite import sqlite_journal
from tradewire.journal.store import Durability
from tradewire.oms.ledger import Ledger
from tradewire.oms.working import WorkingBook
from tradewire.runtime.lock import DataDirectoryLocked
from tradewire.runtime.node import Engine


async def settle() -> None:
    """Let the paper venue's scheduled reports arrive."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_market_signal_fills_and_moves_the_position(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        result = await engine.service.submit_signal(
            {
                "strategy": "trend",
                "instrument": "BTC/USDT",
                "side": "buy",
                "quantity": "0.01",
                "signal_price": "65000",
            }
        )
        await settle()
        assert result.outcome is SignalOutcome.ACCEPTED
        order = engine.service.order(result.client_order_ids[0])
        assert order.status is OrderStatus.FILLED
        assert order.filled_quantity == Decimal("0.01")
        assert order.route == "only venue listing BTC/USDT: paper; its first account paper-1"
        [position] = engine.service.positions()
        assert (position.account, position.instrument, position.quantity) == (
            "paper-1",
            "BTC/USDT",
            Decimal("0.01"),
        )
        assert position.average_price == order.average_fill_price
        assert position.fees == order.fees > 0
        [attributed] = engine.service.positions(by_strategy=True)
        assert attributed.strategy == "trend"


async def test_selling_back_realizes_the_pnl_of_the_round_trip(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        for side in ("buy", "sell"):
            await engine.service.submit_signal(
                {"strategy": "s", "instrument": "AAPL", "side": side, "quantity": "10"}
            )
            await settle()
            await paper_of(engine).step()
        fills = engine.service.fills()
        buy = next(f for f in fills if f.side == "buy")
        sell = next(f for f in fills if f.side == "sell")
        [position] = engine.service.positions()
        assert position.quantity == 0
        assert position.realized_pnl == (sell.price - buy.price) * 10
        assert position.fees == buy.fee + sell.fee


@pytest.mark.parametrize(
    ("backend", "durability"), [("sqlite", "fsync"), ("sqlite", "os"), ("log", "fsync"), ("log", "os")]
)
async def test_state_rebuilt_from_the_journal_has_the_same_digest(
    tmp_path: Path, backend: Backend, durability: Durability
) -> None:
    journal = {"backend": backend, "durability": durability}
    async with running_engine(tmp_path, journal=journal) as engine:
        for index, (instrument, quantity) in enumerate(
            [("BTC/USDT", "0.002"), ("EURUSD", "2000"), ("ESZ6", "1")]
        ):
            await engine.service.submit_signal(
                {"strategy": f"s{index}", "instrument": instrument, "side": "buy", "quantity": quantity}
            )
        await engine.service.submit_signal(
            {
                "strategy": "s",
                "instrument": "AAPL",
                "side": "buy",
                "quantity": "5",
                "order_type": "limit",
                "limit_price": "1",
            }
        )
        await settle()
        before = engine.service.digest()
    replayed = Ledger()
    for _, record in open_journal(backend, tmp_path / FILE_NAMES[backend], durability).replay():
        replayed.apply(record)
    assert replayed.digest() == before
    async with running_engine(tmp_path, journal=journal) as restarted:
        assert restarted.service.digest() == before


async def test_a_repeated_idempotency_key_returns_the_first_result_even_after_a_restart(
    tmp_path: Path,
) -> None:
    signal = {
        "strategy": "s",
        "instrument": "EURUSD",
        "side": "buy",
        "quantity": "1000",
        "idempotency_key": "once",
    }
    async with running_engine(tmp_path) as engine:
        first = await engine.service.submit_signal(signal)
        again = await engine.service.submit_signal(signal)
        assert again.duplicate and again.client_order_ids == first.client_order_ids
    async with running_engine(tmp_path) as engine:
        after_restart = await engine.service.submit_signal(signal)
        await settle()
        assert after_restart.duplicate
        assert after_restart.client_order_ids == first.client_order_ids
        assert len(engine.service.orders()) == 1
        assert len(await paper_of(engine).open_orders()) + len(engine.service.fills()) >= 1


async def test_a_quantity_below_the_minimum_is_denied_with_the_numbers(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        result = await engine.service.submit_signal(
            {"strategy": "s", "instrument": "AAPL", "side": "buy", "quantity": "0.4"}
        )
        assert result.outcome is SignalOutcome.DENIED
        assert result.reason_code == "quantity_below_minimum"
        assert result.reason is not None and "quantity 0" in result.reason and "minimum 1" in result.reason
        assert engine.service.orders() == []
        assert await paper_of(engine).open_orders() == []


async def test_an_unknown_instrument_is_an_input_error_that_changes_nothing(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        sequence = engine.manager.journal.last_sequence
        with pytest.raises(InvalidInput) as raised:
            await engine.service.submit_signal(
                {"strategy": "s", "instrument": "DOGE", "side": "buy", "quantity": "1"}
            )
        [problem] = raised.value.problems
        assert problem.field == "instrument" and "EURUSD" in problem.accepted
        assert engine.manager.journal.last_sequence == sequence


async def test_an_off_grid_price_is_rounded_passively_or_rejected_by_policy(tmp_path: Path) -> None:
    signal = {
        "strategy": "s",
        "instrument": "EURUSD",
        "side": "buy",
        "quantity": "1000",
        "order_type": "limit",
        "limit_price": "1.000019",
    }
    async with running_engine(tmp_path / "round") as engine:
        result = await engine.service.submit_signal(signal)
        assert engine.service.order(result.client_order_ids[0]).limit_price == Decimal("1.00001")
    async with running_engine(tmp_path / "reject", sizing={"off_grid_prices": "reject"}) as engine:
        with pytest.raises(InvalidInput) as raised:
            await engine.service.submit_signal(signal)
        assert raised.value.problems[0].field == "limit_price"
        assert "tick" in raised.value.problems[0].problem
        assert engine.service.orders() == []


async def test_a_target_position_sends_only_the_delta(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        await engine.service.submit_signal({"strategy": "t", "instrument": "AAPL", "target_position": "30"})
        await settle()
        await paper_of(engine).step()
        result = await engine.service.submit_signal(
            {"strategy": "t", "instrument": "AAPL", "target_position": "-20"}
        )
        await settle()
        order = engine.service.order(result.client_order_ids[0])
        assert (order.side, order.quantity) == ("sell", Decimal(50))
        held = await engine.service.submit_signal(
            {"strategy": "t", "instrument": "AAPL", "target_position": "-20"}
        )
        assert held.outcome is SignalOutcome.NO_ACTION


async def test_a_duplicated_fill_report_is_applied_once(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        result = await engine.service.submit_signal(
            {"strategy": "s", "instrument": "AAPL", "side": "buy", "quantity": "7"}
        )
        await settle()
        [fill] = await paper_of(engine).fills_since(engine.service.started_at.replace(year=2000))
        engine.manager.on_report(fill)
        engine.manager.on_report(fill)
        assert engine.service.order(result.client_order_ids[0]).filled_quantity == 7
        assert engine.service.positions()[0].quantity == 7


async def test_a_fill_before_the_ack_and_the_late_ack_leave_the_order_filled(tmp_path: Path) -> None:
    async with running_engine(tmp_path, paper={"latency_ms": 10_000}) as engine:
        result = await engine.service.submit_signal(
            {"strategy": "s", "instrument": "AAPL", "side": "buy", "quantity": "2"}
        )
        client_order_id = ClientOrderId(result.client_order_ids[0])
        venue = paper_of(engine)
        [fill] = await venue.fills_since(engine.service.started_at.replace(year=2000))
        status = await venue.order_status(client_order_id)
        assert isinstance(fill, FillReport) and isinstance(status, OrderStatusReport)
        engine.manager.on_report(fill)
        engine.manager.on_report(status)
        accepted = msgspec.structs.replace(
            status, status=VenueOrderStatus.ACCEPTED, filled_quantity=Decimal(0)
        )
        engine.manager.on_report(accepted)
        order = engine.service.order(client_order_id)
        assert order.status is OrderStatus.FILLED and order.venue_order_id == status.venue_order_id
        assert engine.manager.ledger.anomalies == []


async def test_a_report_the_lifecycle_forbids_is_recorded_and_not_applied(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        result = await engine.service.submit_signal(
            {"strategy": "s", "instrument": "AAPL", "side": "buy", "quantity": "1"}
        )
        await settle()
        client_order_id = ClientOrderId(result.client_order_ids[0])
        status = await paper_of(engine).order_status(client_order_id)
        assert status is not None
        engine.manager.on_report(msgspec.structs.replace(status, status=VenueOrderStatus.REJECTED))
        assert engine.service.order(client_order_id).status is OrderStatus.FILLED
        [anomaly] = engine.manager.ledger.anomalies
        assert isinstance(anomaly, IllegalTransition)
        assert anomaly.client_order_id == client_order_id and anomaly.status is OrderStatus.FILLED
    replayed = Ledger()
    for _, record in sqlite_journal(tmp_path / "journal.sqlite").replay():
        replayed.apply(record)
    assert len(replayed.anomalies) == 1


async def test_a_venue_that_is_down_denies_the_order_as_reconnecting(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        paper_of(engine).simulate_disconnect()
        result = await engine.service.submit_signal(
            {"strategy": "s", "instrument": "AAPL", "side": "buy", "quantity": "1"}
        )
        order = engine.service.order(result.client_order_ids[0])
        assert order.status is OrderStatus.DENIED, "refused by our gate, never sent"
        assert result.reason_code == "venue_not_ready"
        assert order.reason is not None and order.reason.startswith("venue paper is reconnecting")
        assert engine.service.health().status == "degraded"


async def test_an_order_journaled_but_never_sent_is_rejected_on_restart_not_resent(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        result = await engine.service.submit_signal(
            {
                "strategy": "s",
                "instrument": "AAPL",
                "side": "buy",
                "quantity": "1",
                "order_type": "limit",
                "limit_price": "1",
            }
        )
        await settle()
        created = next(
            r for _, r in sqlite_journal(tmp_path / "journal.sqlite").replay() if isinstance(r, OrderCreated)
        )
    # Forge the crash window: a second order journaled as pending-new and submitted, never sent.
    journal = sqlite_journal(tmp_path / "journal.sqlite")
    await journal.start()
    ghost = ClientOrderId("TWghost-1")
    spec = msgspec.structs.replace(created.spec, client_order_id=ghost)
    journal.append(
        OrderCreated(
            event_id=EventId(ghost + "-e1"),
            ts_event=created.ts_event,
            ts_recorded=created.ts_event,
            spec=spec,
        )
    )
    journal.append(
        OrderSubmitted(
            event_id=EventId(ghost + "-e2"),
            ts_event=created.ts_event,
            ts_recorded=created.ts_event,
            client_order_id=ghost,
        )
    )
    await journal.flush()
    await journal.close()
    async with running_engine(tmp_path) as engine:
        ghost_order = engine.service.order(ghost)
        assert ghost_order.status is OrderStatus.REJECTED
        assert ghost_order.reason is not None and "never left" in ghost_order.reason
        assert await paper_of(engine).order_status(ghost) is None
        assert engine.service.order(result.client_order_ids[0]).status is OrderStatus.ACCEPTED
        [report] = engine.service.reconciliations
        assert report.orders_not_found == (ghost,)


async def _fill_then_lose_the_reports(engine: Engine) -> ClientOrderId:
    """A marketable order fills at the venue, then the connection drops before the reports arrive."""
    result = await engine.service.submit_signal(
        {"strategy": "s", "instrument": "AAPL", "side": "buy", "quantity": "3"}
    )
    paper_of(engine).simulate_disconnect()
    await settle()
    client_order_id = ClientOrderId(result.client_order_ids[0])
    assert engine.service.order(client_order_id).status is OrderStatus.SUBMITTED
    return client_order_id


async def test_fills_lost_with_the_connection_are_found_when_it_comes_back(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        client_order_id = await _fill_then_lose_the_reports(engine)
        paper_of(engine).reconnect()
        for _ in range(50):
            await asyncio.sleep(0.01)
            if engine.service.order(client_order_id).status is OrderStatus.FILLED:
                break
        assert engine.service.order(client_order_id).status is OrderStatus.FILLED
        assert engine.service.positions()[0].quantity == 3
        assert [f.inferred for f in engine.service.fills()] == [True]


async def test_fills_the_engine_never_journaled_are_found_on_restart(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        client_order_id = await _fill_then_lose_the_reports(engine)
    async with running_engine(tmp_path) as engine:
        order = engine.service.order(client_order_id)
        assert order.status is OrderStatus.FILLED
        assert engine.service.positions()[0].quantity == 3
        [report] = engine.service.reconciliations
        assert report.fills_applied == 1 and report.clean


async def test_the_journal_records_the_order_before_the_venue_sees_it(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        seen: list[int] = []
        venue = paper_of(engine)
        original = venue.submit

        async def spying_submit(spec):  # type: ignore[no-untyped-def]
            seen.append(engine.manager.journal.durable_sequence)
            assert any(
                isinstance(r, OrderCreated) and r.spec.client_order_id == spec.client_order_id
                for _, r in sqlite_journal(tmp_path / "journal.sqlite").replay()
            )
            await original(spec)

        venue.submit = spying_submit  # type: ignore[method-assign]
        await engine.service.submit_signal(
            {"strategy": "s", "instrument": "AAPL", "side": "buy", "quantity": "1"}
        )
        assert seen and seen[0] > 0
        assert VenueId("paper") in engine.manager.venues


async def test_a_second_engine_on_the_same_data_directory_is_refused(tmp_path: Path) -> None:
    async with running_engine(tmp_path):
        second = Engine(engine_settings(tmp_path))
        with pytest.raises(DataDirectoryLocked, match="another engine"):
            await second.start()
    async with running_engine(tmp_path) as engine:  # released on stop
        assert engine.service.health().trading_state == "active"


async def test_the_running_working_totals_equal_a_full_recount(tmp_path: Path) -> None:
    """Risk reads working quantities from running totals; they must match a scan of open orders."""
    async with running_engine(tmp_path, risk={"portfolio": {"max_position_quantity": "60"}}) as engine:
        ledger = engine.manager.ledger
        ids: list[str] = []
        for index in range(12):
            side = "buy" if index % 3 else "sell"
            quote = paper_of(engine).current_quote(engine.manager.instrument("AAPL").instrument_id)
            assert quote is not None
            price = quote.bid if side == "buy" else quote.ask
            result = await engine.service.submit_signal(
                {
                    "strategy": f"s{index % 2}",
                    "instrument": "AAPL",
                    "side": side,
                    "quantity": str(5 + index),
                    "order_type": "limit",
                    "limit_price": str(price),
                }
            )
            ids.extend(result.client_order_ids)
            await settle()
            await paper_of(engine).step()
            await settle()
            assert ledger.working.totals() == WorkingBook.recount(list(ledger.open_orders.values())).totals()
        for client_order_id in ids[::2]:
            if engine.service.order(client_order_id).status in (
                OrderStatus.ACCEPTED,
                OrderStatus.PARTIALLY_FILLED,
            ):
                await engine.service.cancel_order(client_order_id, "test")
                await settle()
            assert ledger.working.totals() == WorkingBook.recount(list(ledger.open_orders.values())).totals()
        assert ledger.working.totals()[0], "some orders must still be working for the check to mean much"


async def test_bad_control_inputs_are_refused_with_the_field_named_and_change_nothing(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        sequence = engine.manager.journal.last_sequence
        with pytest.raises(InvalidInput, match="finite"):
            await engine.service.set_limits("portfolio", {"max_order_notional": "NaN"}, "test")
        with pytest.raises(InvalidInput, match=r"at least 0"):
            await engine.service.set_limits("account:paper-1", {"max_open_orders": -1}, "test")
        with pytest.raises(InvalidInput) as no_reason:
            await engine.service.engage_kill_switch("portfolio", "test", "   ")
        assert no_reason.value.problems[0].field == "reason"
        result = await engine.service.submit_signal(
            {
                "strategy": "s",
                "instrument": "AAPL",
                "side": "buy",
                "quantity": "1",
                "order_type": "limit",
                "limit_price": "1",
            }
        )
        await settle()
        with pytest.raises(InvalidInput) as no_change:
            await engine.service.modify_order(result.client_order_ids[0], "test")
        assert no_change.value.problems[0].field == "quantity"
        with pytest.raises(InvalidInput):
            await engine.service.modify_order(result.client_order_ids[0], "test", quantity=Decimal("NaN"))
        assert engine.manager.journal.last_sequence == sequence + 4, "only the signal's 4 records"


async def test_a_fill_a_healthy_looking_connection_dropped_is_found_by_the_periodic_reconciliation(
    tmp_path: Path,
) -> None:
    async with running_engine(tmp_path, reconcile_interval=0.05) as engine:
        venue = paper_of(engine)
        deliver = venue._on_report
        assert deliver is not None
        dropped: list[FillReport] = []

        def lossy(report: object) -> None:
            if isinstance(report, FillReport) and not dropped:
                dropped.append(report)  # the connection "stays up" but this fill never arrives
                return
            deliver(report)  # type: ignore[arg-type]

        venue._on_report = lossy
        result = await engine.service.submit_signal(
            {"strategy": "s", "instrument": "AAPL", "side": "buy", "quantity": "3"}
        )
        await settle()
        assert dropped
        order_id = result.client_order_ids[0]
        for _ in range(500):  # until the reconciliation that found it has stored its report
            await asyncio.sleep(0.01)
            if any(r.fills_applied == 1 for r in engine.service.reconciliations):
                break
        assert any(r.fills_applied == 1 for r in engine.service.reconciliations)
        assert engine.service.order(order_id).status is OrderStatus.FILLED
        assert [f.inferred for f in engine.service.fills()] == [True]
