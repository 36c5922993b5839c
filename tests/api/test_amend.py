import asyncio
from decimal import Decimal

import httpx
import pytest

from tests.api.records import journaled, problem_fields, send
from tests.api.signals import limit_signal, market_signal, post_signal, settle
from tradewire.domain.enums import OrderStatus
from tradewire.domain.events import CancelOrder, ModifyOrder, OrderModifyDenied
from tradewire.domain.ids import ClientOrderId
from tradewire.runtime.node import Engine


async def resting_order(api: httpx.AsyncClient, engine: Engine, **overrides: object) -> str:
    response = await post_signal(api, limit_signal(**overrides))
    assert response.status_code == 202, response.text
    order_id: str = response.json()["client_order_ids"][0]
    await settle(engine, order_id, OrderStatus.ACCEPTED)
    return order_id


async def amend(
    api: httpx.AsyncClient, order_id: str, body: dict[str, object] | bytes, operator: str | None = None
) -> httpx.Response:
    return await send(api, "PATCH", f"/api/v1/orders/{order_id}", body, operator)


async def settled_quantity(engine: Engine, order_id: str, quantity: str) -> None:
    for _ in range(200):
        order = engine.manager.ledger.orders[ClientOrderId(order_id)]
        if order.status is OrderStatus.ACCEPTED and order.quantity == Decimal(quantity):
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"order {order_id} did not settle at quantity {quantity}")


async def test_amending_down_is_202_and_the_order_then_shows_the_new_quantity(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    order_id = await resting_order(api, engine, quantity="0.01")

    response = await amend(api, order_id, {"quantity": "0.008"})

    assert response.status_code == 202, response.text
    assert response.json()["denied"] is False
    assert response.json()["order"]["client_order_id"] == order_id
    await settled_quantity(engine, order_id, "0.008")
    shown = (await api.get(f"/api/v1/orders/{order_id}")).json()
    assert shown["quantity"] == "0.008"
    assert shown["leaves_quantity"] == "0.008"


async def test_a_price_given_as_a_json_number_is_read_exactly(api: httpx.AsyncClient, engine: Engine) -> None:
    order_id = await resting_order(api, engine)

    response = await amend(api, order_id, b'{"limit_price": 60100.10}')

    assert response.status_code == 202, response.text
    for _ in range(200):
        if engine.manager.ledger.orders[ClientOrderId(order_id)].status is OrderStatus.ACCEPTED:
            break
        await asyncio.sleep(0.005)
    assert (await api.get(f"/api/v1/orders/{order_id}")).json()["limit_price"] == "60100.10"


async def test_amending_up_beyond_a_position_limit_is_403_and_the_order_is_unchanged(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    order_id = await resting_order(api, engine, quantity="0.01")
    limits = {"scope": "account:paper-1", "limits": {"max_position_quantity": "0.02"}}
    assert (await send(api, "PUT", "/api/v1/risk/limits", limits)).status_code == 200

    response = await amend(api, order_id, {"quantity": "0.05"}, operator="alice")

    assert response.status_code == 403, response.text
    body = response.json()
    assert body["denied"] is True
    assert body["reason_code"] == "position_limit"
    assert "0.02" in body["reason"]
    assert body["order"]["quantity"] == "0.01"
    assert body["order"]["status"] == "accepted"
    order = engine.manager.ledger.orders[ClientOrderId(order_id)]
    assert (order.quantity, order.status) == (Decimal("0.01"), OrderStatus.ACCEPTED)
    [denied] = journaled(engine, OrderModifyDenied)
    assert denied.reason_code == "position_limit"


async def test_the_journal_records_who_asked_for_the_amend(api: httpx.AsyncClient, engine: Engine) -> None:
    order_id = await resting_order(api, engine)

    await amend(api, order_id, {"quantity": "0.009"}, operator="alice")

    [command] = journaled(engine, ModifyOrder)
    assert command.requested_by == "api:alice"
    assert command.quantity == Decimal("0.009")


async def test_amending_an_unknown_order_is_404(api: httpx.AsyncClient) -> None:
    response = await amend(api, "TW-nope", {"quantity": "1"})

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_amending_a_filled_order_is_409(api: httpx.AsyncClient, engine: Engine) -> None:
    response = await post_signal(api, market_signal())
    order_id = response.json()["client_order_ids"][0]
    await settle(engine, order_id, OrderStatus.FILLED)

    conflict = await amend(api, order_id, {"quantity": "0.02"})

    assert conflict.status_code == 409
    assert "only an accepted order can be amended" in conflict.json()["message"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["body"]),
        ({"quantity": None}, ["body"]),
        ({"quantity": "-1"}, ["quantity"]),
        ({"quantity": "0", "limit_price": "NaN"}, ["limit_price", "quantity"]),
        ({"quantity": "ten"}, ["quantity"]),
        ({"side": "sell"}, ["side"]),
        ({"quantity": "0.000001"}, ["quantity"]),
        ({"stop_price": "1"}, ["stop_price"]),
        ({"limit_price": "60000.001"}, ["limit_price"]),
        (b"not json", ["body"]),
    ],
)
async def test_a_bad_amend_is_422_naming_each_field_and_changes_nothing(
    api: httpx.AsyncClient, engine: Engine, body: dict[str, object] | bytes, fields: list[str]
) -> None:
    order_id = await resting_order(api, engine)

    response = await amend(api, order_id, body)

    assert problem_fields(response) == fields
    assert journaled(engine, ModifyOrder) == []
    assert engine.manager.ledger.orders[ClientOrderId(order_id)].quantity == Decimal("0.01")


async def test_amending_needs_the_token(anonymous: httpx.AsyncClient) -> None:
    response = await amend(anonymous, "TW-any", {"quantity": "1"})

    assert response.status_code == 401


async def test_a_cancel_journals_the_operator_too(api: httpx.AsyncClient, engine: Engine) -> None:
    order_id = await resting_order(api, engine)

    response = await api.delete(f"/api/v1/orders/{order_id}", headers={"X-Operator": "alice"})

    assert response.status_code == 202
    [command] = journaled(engine, CancelOrder)
    assert command.requested_by == "api:alice"
