"""Signal bodies for the API tests: a valid one to vary, and helpers to send them."""

import asyncio
from typing import Any

import httpx
import msgspec

from tradewire.domain.enums import OrderStatus
from tradewire.domain.ids import ClientOrderId
from tradewire.runtime.node import Engine

INSTRUMENT = "BTC/USDT"
"""Trades around 65000 with a 0.01 tick, 0.00001 lot and a minimum notional of 5 (24/7)."""


def limit_signal(**overrides: Any) -> dict[str, Any]:
    """A buy limit far below the market: it rests at the venue, accepted and unfilled."""
    return {
        "strategy": "trend-1",
        "instrument": INSTRUMENT,
        "side": "buy",
        "quantity": "0.01",
        "order_type": "limit",
        "limit_price": "60000.10",
        **overrides,
    }


def market_signal(**overrides: Any) -> dict[str, Any]:
    return {"strategy": "trend-1", "instrument": INSTRUMENT, "side": "buy", "quantity": "0.01", **overrides}


async def post_signal(api: httpx.AsyncClient, body: dict[str, Any] | bytes) -> httpx.Response:
    content = body if isinstance(body, bytes) else msgspec.json.encode(body)
    return await api.post("/api/v1/signals", content=content)


async def settle(engine: Engine, client_order_id: str, status: OrderStatus) -> None:
    """Let the paper venue's reports arrive until the order reaches `status`."""
    for _ in range(200):
        order = engine.manager.ledger.orders.get(ClientOrderId(client_order_id))
        if order is not None and order.status is status:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"order {client_order_id} did not become {status}")
