from decimal import Decimal

import httpx

from tests.api.signals import limit_signal, market_signal, post_signal, settle
from tradewire.domain.enums import OrderStatus
from tradewire.runtime.node import Engine


async def test_an_accepted_limit_signal_is_202_and_its_order_is_listed(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    response = await post_signal(api, limit_signal())

    assert response.status_code == 202
    result = response.json()
    assert result["outcome"] == "accepted"
    assert result["duplicate"] is False
    assert "Idempotent-Replayed" not in response.headers
    [order_id] = result["client_order_ids"]
    await settle(engine, order_id, OrderStatus.ACCEPTED)
    [order] = (await api.get("/api/v1/orders")).json()
    assert order["client_order_id"] == order_id
    assert order["signal_id"] == result["signal_id"]
    assert order["limit_price"] == "60000.10"
    assert isinstance(order["quantity"], str)
    assert Decimal(order["quantity"]) == Decimal("0.01")
    assert order["status"] == "accepted"
    assert order["created_at"].endswith("Z")


async def test_a_signal_sent_as_text_plain_is_read_as_json(api: httpx.AsyncClient) -> None:
    body = b'{"strategy": "tv-alert", "instrument": "BTC/USDT", "side": "buy", "quantity": 0.01,'
    body += b' "order_type": "limit", "limit_price": 60000.10}'

    response = await api.post("/api/v1/signals", content=body, headers={"Content-Type": "text/plain"})

    assert response.status_code == 202
    [order_id] = response.json()["client_order_ids"]
    order = (await api.get(f"/api/v1/orders/{order_id}")).json()
    assert order["limit_price"] == "60000.10"


async def test_order_filters_pick_by_status_strategy_account_and_instrument(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    resting = (await post_signal(api, limit_signal(strategy="alpha"))).json()["client_order_ids"][0]
    filled = (await post_signal(api, market_signal(strategy="beta"))).json()["client_order_ids"][0]
    await settle(engine, resting, OrderStatus.ACCEPTED)
    await settle(engine, filled, OrderStatus.FILLED)

    async def ids(query: str) -> list[str]:
        response = await api.get(f"/api/v1/orders?{query}")
        assert response.status_code == 200, response.text
        return [order["client_order_id"] for order in response.json()]

    assert await ids("") == [filled, resting]
    assert await ids("status=open") == [resting]
    assert await ids("status=filled") == [filled]
    assert await ids("status=filled,accepted") == [filled, resting]
    assert await ids("strategy=alpha") == [resting]
    assert await ids("account=paper-1") == [filled, resting]
    assert await ids("account=other") == []
    assert await ids("instrument=BTC/USDT&strategy=beta") == [filled]
    assert await ids("limit=1") == [filled]


async def test_an_unknown_status_filter_is_422_listing_the_statuses(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/orders?status=filled,bogus")

    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["field"] == "status"
    assert "'bogus' is not an order status" in problem["problem"]
    assert "pending_cancel" in problem["accepted"]


async def test_a_limit_out_of_range_is_422_in_the_same_shape(api: httpx.AsyncClient) -> None:
    for path in ("/api/v1/orders?limit=0", "/api/v1/orders?limit=10001", "/api/v1/fills?limit=ten"):
        response = await api.get(path)

        assert response.status_code == 422, path
        assert response.json()["error"] == "invalid_input"
        [problem] = response.json()["problems"]
        assert problem["field"] == "limit"
        assert problem["accepted"] == "an integer from 1 to 10000"


async def test_a_repeated_idempotency_key_replays_the_first_result_and_sends_nothing(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    first = await post_signal(api, limit_signal(idempotency_key="trend-1:bar-42"))
    await settle(engine, first.json()["client_order_ids"][0], OrderStatus.ACCEPTED)
    journal_after_first = engine.manager.journal.last_sequence

    again = await post_signal(api, limit_signal(idempotency_key="trend-1:bar-42", quantity="0.02"))

    assert again.status_code == first.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == {**first.json(), "duplicate": True}
    assert len((await api.get("/api/v1/orders")).json()) == 1
    assert engine.manager.journal.last_sequence == journal_after_first


async def test_a_signal_below_the_minimum_quantity_is_denied_with_403(api: httpx.AsyncClient) -> None:
    response = await post_signal(api, limit_signal(quantity="0.000001"))

    assert response.status_code == 403
    result = response.json()
    assert result["outcome"] == "denied"
    assert result["reason_code"] == "quantity_below_minimum"
    assert "minimum 0.00001" in result["reason"]
    assert result["client_order_ids"] == []
    assert (await api.get("/api/v1/orders")).json() == []


async def test_a_replayed_denial_is_403_again(api: httpx.AsyncClient) -> None:
    body = limit_signal(quantity="0.000001", idempotency_key="small")
    first = await post_signal(api, body)

    again = await post_signal(api, body)

    assert again.status_code == first.status_code == 403
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["duplicate"] is True


async def test_a_target_already_held_is_200_with_no_action(api: httpx.AsyncClient) -> None:
    body = {"strategy": "trend-1", "instrument": "BTC/USDT", "target_position": "0.000001"}

    response = await post_signal(api, body)

    assert response.status_code == 200
    assert response.json()["outcome"] == "no_action"
    assert response.json()["client_order_ids"] == []


async def test_a_batch_of_signals_answers_each_in_order_with_exact_numbers(api: httpx.AsyncClient) -> None:
    body = (
        b'[{"strategy": "a", "instrument": "AAPL", "side": "buy", "quantity": 2},'
        b' {"strategy": "b", "instrument": "AAPL", "side": "buy", "quantity": 0.5}]'
    )
    response = await api.post("/api/v1/signals/batch", content=body)
    assert response.status_code == 200
    first, second = response.json()
    assert first["outcome"] == "accepted"
    assert (second["outcome"], second["reason_code"]) == ("denied", "quantity_below_minimum")


async def test_a_batch_that_is_not_an_array_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/signals/batch", json={"strategy": "a"})
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "body"
