from decimal import Decimal

import httpx
import msgspec
import pytest

from tests.api.signals import limit_signal, market_signal, post_signal, settle
from tradewire.domain.enums import OrderStatus
from tradewire.domain.ids import ClientOrderId
from tradewire.runtime.node import Engine
from tradewire.services.views import AccountView, FillView, OrderView, PositionView
from tradewire.venues.paper.client import PaperVenue


async def submit(api: httpx.AsyncClient, body: dict[str, object]) -> str:
    response = await post_signal(api, body)
    assert response.status_code == 202, response.text
    order_id: str = response.json()["client_order_ids"][0]
    return order_id


async def test_cancel_is_202_and_the_order_ends_canceled(api: httpx.AsyncClient, engine: Engine) -> None:
    order_id = await submit(api, limit_signal())
    await settle(engine, order_id, OrderStatus.ACCEPTED)

    response = await api.delete(f"/api/v1/orders/{order_id}")

    assert response.status_code == 202
    assert response.json()["client_order_id"] == order_id
    assert response.json()["status"] in ("pending_cancel", "canceled")
    await settle(engine, order_id, OrderStatus.CANCELED)
    assert (await api.get(f"/api/v1/orders/{order_id}")).json()["status"] == "canceled"
    assert engine.manager.ledger.orders[ClientOrderId(order_id)].status is OrderStatus.CANCELED


async def test_cancel_of_an_unknown_order_is_404(api: httpx.AsyncClient) -> None:
    response = await api.delete("/api/v1/orders/TW-never-existed")

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "no order 'TW-never-existed'"}


async def test_cancel_of_a_filled_order_is_409(api: httpx.AsyncClient, engine: Engine) -> None:
    order_id = await submit(api, market_signal())
    await settle(engine, order_id, OrderStatus.FILLED)
    journal_before = engine.manager.journal.last_sequence

    response = await api.delete(f"/api/v1/orders/{order_id}")

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert "is filled" in response.json()["message"]
    assert engine.manager.journal.last_sequence == journal_before


async def test_an_unknown_order_is_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/orders/TW-nope")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_an_order_decodes_into_its_view_with_exact_decimals(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    order_id = await submit(api, limit_signal(limit_price="60000.10", signal_price="60123.45"))
    await settle(engine, order_id, OrderStatus.ACCEPTED)

    view = msgspec.json.decode((await api.get(f"/api/v1/orders/{order_id}")).content, type=OrderView)

    assert view.limit_price == Decimal("60000.10")
    assert view.signal_price == Decimal("60123.45")
    assert view.leaves_quantity == Decimal("0.01")
    assert view.created_at.tzinfo is not None
    assert view.created_at.utcoffset() is not None
    assert not view.created_at.utcoffset()


async def test_fills_positions_and_accounts_after_a_market_buy(
    api: httpx.AsyncClient, engine: Engine, paper: PaperVenue
) -> None:
    order_id = await submit(api, market_signal())
    await settle(engine, order_id, OrderStatus.FILLED)

    [fill] = (await api.get("/api/v1/fills")).json()
    assert fill["client_order_id"] == order_id
    assert fill["side"] == "buy"
    assert isinstance(fill["quantity"], str)
    assert Decimal(fill["quantity"]) == Decimal("0.01")
    assert isinstance(fill["price"], str)
    assert isinstance(fill["fee"], str)
    assert fill["liquidity"] == "taker"
    assert Decimal(fill["price"]) == engine.manager.ledger.fills[0].price
    assert (await api.get(f"/api/v1/fills?client_order_id={order_id}")).json() == [fill]
    assert (await api.get("/api/v1/fills?strategy=other")).json() == []
    assert (await api.get("/api/v1/fills?account=paper-1&limit=1")).json() == [fill]

    [position] = (await api.get("/api/v1/positions")).json()
    assert position["account"] == "paper-1"
    assert position["strategy"] is None
    assert position["instrument"] == "BTC/USDT"
    assert position["quantity"] == fill["quantity"]
    assert position["average_price"] == fill["price"]
    for money in ("realized_pnl", "fees", "mark_price", "unrealized_pnl", "net_pnl"):
        assert isinstance(position[money], str), money
    [by_strategy] = (await api.get("/api/v1/positions?by=strategy")).json()
    assert by_strategy["strategy"] == "trend-1"
    assert (await api.get("/api/v1/positions?account=other")).json() == []

    [account] = (await api.get("/api/v1/accounts")).json()
    assert account["account"] == "paper-1"
    assert account["venue"] == "paper"
    assert account["venue_connected"] is True
    assert account["open_orders"] == 0
    assert account["fees"] == fill["fee"]

    for path, kind in (
        ("/api/v1/fills", list[FillView]),
        ("/api/v1/positions", list[PositionView]),
        ("/api/v1/accounts", list[AccountView]),
    ):
        msgspec.json.decode((await api.get(path)).content, type=kind)


async def test_a_bad_positions_grouping_is_422(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/positions?by=venue")

    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["field"] == "by"
    assert problem["accepted"] == "account or strategy"


async def test_reconciliations_list_the_start_up_reconciliation(api: httpx.AsyncClient) -> None:
    [report] = (await api.get("/api/v1/reconciliations")).json()

    assert report["venue"] == "paper"
    assert report["unknown_venue_orders"] == []
    assert report["position_differences"] == []


async def test_healthz_is_200_when_ok_and_503_when_a_venue_is_disconnected(
    anonymous: httpx.AsyncClient, paper: PaperVenue
) -> None:
    healthy = await anonymous.get("/healthz")
    assert healthy.status_code == 200
    assert healthy.json()["status"] == "ok"
    assert healthy.json()["venues"] == {"paper": True}

    paper.simulate_disconnect()
    degraded = await anonymous.get("/healthz")

    assert degraded.status_code == 503
    assert degraded.json()["status"] == "degraded"
    assert degraded.json()["venues"] == {"paper": False}


async def test_an_unexpected_error_is_a_500_without_a_stack_trace(
    api: httpx.AsyncClient, engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("secret internals at /srv/tradewire")

    monkeypatch.setattr(engine.service, "accounts", broken)

    response = await api.get("/api/v1/accounts")

    assert response.status_code == 500
    assert response.json() == {
        "error": "internal_error",
        "message": "the engine failed to answer; see its log",
    }
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert "secret internals" in caplog.text


async def test_an_unknown_path_is_404_in_the_error_shape(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Not Found"}
