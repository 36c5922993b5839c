"""The whole engine trading through `CcxtVenue` at the local fake exchange: signal to fill, positions
against the venue's, a restart that reconciles to the same state, and a fill missed on the stream."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.exchange import FakeExchange
from tests.venues.ccxt.on_fake import ACCOUNT, fake_venue, orders_at_fake, subscribed, until
from tradewire.domain.enums import OrderStatus, SignalOutcome
from tradewire.domain.ids import ClientOrderId, VenueId
from tradewire.runtime.node import Engine
from tradewire.runtime.settings import Settings

EXCHANGE = "bybit"
API_KEY = "engine-key"


@pytest.fixture
async def fake() -> AsyncIterator[FakeExchange]:
    async with FakeExchange() as running:
        # Only quote currency: the venue's spot position is exactly what the engine bought.
        running.add_account(API_KEY, {"USDT": Decimal(100_000)})
        yield running


def settings(data_dir: Path, exchange: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        paper={"enabled": False},
        accounts=[{"id": ACCOUNT, "venue": exchange, "currency": "USDT"}],
    )


@asynccontextmanager
async def engine_at_fake(
    fake: FakeExchange, data_dir: Path, exchange: str = EXCHANGE
) -> AsyncIterator[Engine]:
    venue = fake_venue(fake, exchange, data_dir, api_key=API_KEY)
    async with Engine(settings(data_dir, exchange), venues={VenueId(exchange): venue}) as engine:
        await until(subscribed(fake, exchange, API_KEY), "the user-data subscription")
        yield engine


def signal(**fields: Any) -> dict[str, Any]:
    return {"strategy": "trend", "instrument": "BTC/USDT", "side": "buy", "quantity": "0.5", **fields}


async def test_a_signal_fills_at_the_exchange_and_a_restart_reconciles_to_the_same_state(
    fake: FakeExchange, tmp_path: Path
) -> None:
    async with engine_at_fake(fake, tmp_path) as engine:
        result = await engine.service.submit_signal(signal(signal_price="101"))
        assert result.outcome is SignalOutcome.ACCEPTED
        [client_order_id] = result.client_order_ids
        await until(lambda: engine.service.order(client_order_id).status is OrderStatus.FILLED, "the fill")
        venue_positions = await engine.manager.venues[VenueId(EXCHANGE)].positions()
        before = _state(engine)

    async with engine_at_fake(fake, tmp_path) as restarted:
        after = _state(restarted)
        reconciliations = list(restarted.service.reconciliations)

    assert [(p.instrument, p.quantity) for p in venue_positions] == [("BTC/USDT", Decimal("0.5"))]
    assert before["positions"] == [("BTC/USDT", Decimal("0.5"))]
    assert before["fills"] == [(client_order_id, Decimal("0.5"), Decimal(101))]
    assert after == before
    assert reconciliations and all(r.clean for r in reconciliations)
    assert orders_at_fake(fake, EXCHANGE, client_order_id, API_KEY) == 1
    assert len(fake.engine.orders_of(f"{EXCHANGE}:{API_KEY}")) == 1


async def test_a_fill_missed_while_the_stream_was_down_is_applied_after_it_reconnects(
    fake: FakeExchange, tmp_path: Path
) -> None:
    async with engine_at_fake(fake, tmp_path, "binance") as engine:
        result = await engine.service.submit_signal(signal(order_type="limit", limit_price="95"))
        [client_order_id] = result.client_order_ids
        await until(lambda: engine.service.order(client_order_id).status is OrderStatus.ACCEPTED, "the ack")
        [order] = [
            o for o in fake.engine.orders_of(f"binance:{API_KEY}") if o.client_order_id == client_order_id
        ]

        reconciled_before = len(engine.service.reconciliations)
        await fake.drop_websockets()
        await until(lambda: not fake.sessions_of("binance-ws-api", order.account), "the sockets to close")
        fake.fill(order.order_id, Decimal("0.5"))
        await until(
            lambda: engine.service.order(client_order_id).status is OrderStatus.FILLED, "the missed fill"
        )

        # The fill event went to no socket: the reconciliation run after the reconnect found it.
        await until(lambda: len(engine.service.reconciliations) > reconciled_before, "the reconciliation")
        assert engine.service.reconciliations[-1].fills_applied == 1
        assert [(f.quantity, f.price) for f in engine.service.fills()] == [(Decimal("0.5"), Decimal(95))]
        assert [(p.instrument, p.quantity) for p in engine.service.positions()] == [
            ("BTC/USDT", Decimal("0.5"))
        ]


def _state(engine: Engine) -> dict[str, Any]:
    return {
        "orders": sorted((o.client_order_id, o.status, o.filled_quantity) for o in engine.service.orders()),
        "fills": [(ClientOrderId(f.client_order_id), f.quantity, f.price) for f in engine.service.fills()],
        "positions": [(p.instrument, p.quantity) for p in engine.service.positions()],
    }
