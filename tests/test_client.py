"""The Python client: against an in-process engine (async) and against canned answers (sync)."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.runtime.engines import running_engine
from tradewire.api import create_app
from tradewire.client import ApiError, AsyncTradewireClient, OutcomeUnknown, TradewireClient, Unreachable
from tradewire.domain.enums import AssetClass, OrderStatus, OrderType, Side, SignalOutcome, TradingState
from tradewire.domain.limits import Limits
from tradewire.domain.signals import Signal
from tradewire.oms.controls import KillSwitchResult
from tradewire.services.views import TradingStateView

TOKEN = "client-test-token"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[AsyncTradewireClient]:
    async with running_engine(tmp_path) as engine:
        transport = httpx.ASGITransport(app=create_app(engine.service, TOKEN))
        async with AsyncTradewireClient("http://tradewire.test/", TOKEN, transport=transport) as client:
            yield client


async def test_a_signal_struct_round_trips_with_exact_decimals(client: AsyncTradewireClient) -> None:
    signal = Signal(
        strategy="trend-1",
        instrument="BTC/USDT",
        side=Side.BUY,
        quantity=Decimal("0.01000"),
        order_type=OrderType.LIMIT,
        limit_price=Decimal("60000.10"),
        idempotency_key="k-1",
    )

    result = await client.submit_signal(signal)
    [order_id] = result.client_order_ids
    order = await client.order(order_id)

    assert result.outcome is SignalOutcome.ACCEPTED
    assert order.limit_price == Decimal("60000.10")
    assert str(order.limit_price) == "60000.10"
    assert order.side is Side.BUY
    assert [o.client_order_id for o in await client.orders(status="open")] == [order_id]


async def test_a_replayed_key_comes_back_as_a_duplicate(client: AsyncTradewireClient) -> None:
    body = {"strategy": "s", "instrument": "BTC/USDT", "side": "buy", "quantity": Decimal("0.01")}
    first = await client.submit_signal(
        {**body, "order_type": "limit", "limit_price": "60000", "idempotency_key": "x"}
    )
    again = await client.submit_signal(
        {**body, "order_type": "limit", "limit_price": "60000", "idempotency_key": "x"}
    )

    assert again.duplicate is True
    assert again.client_order_ids == first.client_order_ids


async def test_a_denied_signal_is_a_result_not_an_error(client: AsyncTradewireClient) -> None:
    result = await client.submit_signal(
        b'{"strategy": "s", "instrument": "BTC/USDT", "side": "buy", "quantity": "1e-9"}'
    )

    assert result.outcome is SignalOutcome.DENIED
    assert result.reason_code == "quantity_below_minimum"


async def test_an_invalid_signal_raises_api_error_with_every_problem(client: AsyncTradewireClient) -> None:
    with pytest.raises(ApiError) as raised:
        await client.submit_signal({"strategy": "s", "instrument": "BTC/USDT", "quantity": "-1"})

    error = raised.value
    assert error.status == 422
    assert error.error == "invalid_input"
    assert [p.field for p in error.problems] == ["quantity", "side"]
    assert json.loads(error.body)["error"] == "invalid_input"


async def test_cancel_of_an_unknown_order_is_404_and_of_a_filled_order_409(
    client: AsyncTradewireClient,
) -> None:
    with pytest.raises(ApiError) as missing:
        await client.cancel("TW-unknown")
    assert missing.value.status == 404

    result = await client.submit_signal(
        {"strategy": "s", "instrument": "BTC/USDT", "side": "sell", "quantity": "0.01"}
    )
    [order_id] = result.client_order_ids
    for _ in range(100):
        if (await client.order(order_id)).status is OrderStatus.FILLED:
            break
        await asyncio.sleep(0.005)
    with pytest.raises(ApiError) as conflict:
        await client.cancel(order_id)
    assert conflict.value.status == 409


async def test_reads_decode_into_views(client: AsyncTradewireClient) -> None:
    [account] = await client.accounts()
    health = await client.health()

    assert account.realized_pnl == Decimal(0)
    assert health.status == "ok"
    assert await client.positions(by_strategy=True, include_flat=True) == []
    assert await client.fills(limit=5) == []
    assert (await client.reconciliations())[0].venue == "paper"


async def test_a_wrong_token_raises_401(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        transport = httpx.ASGITransport(app=create_app(engine.service, TOKEN))
        async with AsyncTradewireClient("http://t", "wrong", transport=transport) as client:
            with pytest.raises(ApiError) as raised:
                await client.accounts()

    assert raised.value.status == 401
    assert raised.value.error == "unauthorized"


def canned(handler: Callable[[httpx.Request], httpx.Response]) -> TradewireClient:
    return TradewireClient("http://engine.test", TOKEN, transport=httpx.MockTransport(handler))


def test_the_sync_client_sends_the_token_and_quotes_the_order_id() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"error": "not_found", "message": "no order 'a/b'"})

    with canned(handler) as client, pytest.raises(ApiError) as raised:
        client.order("a/b")

    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert seen[0].url.raw_path == b"/api/v1/orders/a%2Fb"
    assert str(raised.value) == "404 not_found: no order 'a/b'"


def test_query_parameters_are_only_the_ones_given() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    with canned(handler) as client:
        client.orders(status="open", limit=3)
        client.positions(by_strategy=True, include_flat=True)

    assert dict(seen[0].url.params) == {"status": "open", "limit": "3"}
    assert dict(seen[1].url.params) == {"by": "strategy", "include_flat": "true"}


def test_a_degraded_health_is_returned_not_raised() -> None:
    body = {
        "status": "degraded",
        "trading_state": "active",
        "venues": {"paper": False},
        "journal_sequence": 3,
        "journal_durable_sequence": 3,
        "started_at": "2026-01-05T14:30:00Z",
    }
    with canned(lambda _: httpx.Response(503, json=body)) as client:
        health = client.health()

    assert health.status == "degraded"
    assert health.venues == {"paper": False}


def test_a_non_json_error_still_raises_api_error() -> None:
    with (
        canned(lambda _: httpx.Response(502, text="Bad Gateway from the proxy")) as client,
        pytest.raises(ApiError) as raised,
    ):
        client.accounts()

    assert raised.value.status == 502
    assert "Bad Gateway" in raised.value.message


def test_a_refused_connection_is_unreachable_and_names_the_url() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with canned(refuse) as client, pytest.raises(Unreachable) as raised:
        client.submit_signal({"strategy": "s"})

    assert not isinstance(raised.value, OutcomeUnknown)
    assert "http://engine.test" in str(raised.value)


def test_a_signal_that_times_out_has_an_unknown_outcome() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with canned(slow) as client, pytest.raises(OutcomeUnknown):
        client.submit_signal({"strategy": "s"})


def test_a_read_that_times_out_is_just_unreachable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with canned(slow) as client, pytest.raises(Unreachable) as raised:
        client.orders()

    assert not isinstance(raised.value, OutcomeUnknown)


async def test_limits_round_trip_into_the_domain_struct(client: AsyncTradewireClient) -> None:
    limits = Limits(
        max_order_quantity=Decimal("0.50"), max_gross_exposure={AssetClass.CRYPTO_SPOT: Decimal(1000)}
    )

    answer = await client.set_limits("account:paper-1", limits)

    assert answer == limits
    assert await client.limits() == {"account:paper-1": limits}
    assert await client.set_limits("portfolio", b'{"max_open_orders": 4}') == Limits(max_open_orders=4)


async def test_a_bad_limit_raises_api_error_naming_the_field(client: AsyncTradewireClient) -> None:
    with pytest.raises(ApiError) as raised:
        await client.set_limits("portfolio", {"max_open_orders": "many"})

    assert raised.value.status == 422
    assert [p.field for p in raised.value.problems] == ["limits.max_open_orders"]


async def test_the_kill_switch_halts_and_resume_re_arms(client: AsyncTradewireClient) -> None:
    result = await client.engage_kill_switch("drill", scope="strategy:s")
    states = await client.kill_switch_states()
    denied = await client.submit_signal(
        {"strategy": "s", "instrument": "BTC/USDT", "side": "buy", "quantity": "0.01"}
    )
    resumed = await client.resume("drill over", scope="strategy:s")

    assert result == KillSwitchResult(scope="strategy:s", state=TradingState.HALTED)
    portfolio = TradingStateView(scope="portfolio", state=TradingState.ACTIVE, flat=True)
    assert states == [portfolio, TradingStateView(scope="strategy:s", state=TradingState.HALTED, flat=True)]
    assert denied.reason_code == "trading_halted"
    assert resumed == [portfolio, TradingStateView(scope="strategy:s", state=TradingState.ACTIVE, flat=True)]


async def test_an_amend_denied_by_risk_is_a_result_not_an_error(client: AsyncTradewireClient) -> None:
    result = await client.submit_signal(
        {
            "strategy": "s",
            "instrument": "BTC/USDT",
            "side": "buy",
            "quantity": "0.01",
            "order_type": "limit",
            "limit_price": "60000",
        }
    )
    [order_id] = result.client_order_ids
    for _ in range(100):
        if (await client.order(order_id)).status is OrderStatus.ACCEPTED:
            break
        await asyncio.sleep(0.005)
    await client.set_limits("strategy:s", {"max_order_quantity": "0.02"})

    denied = await client.amend(order_id, quantity="0.05")
    sent = await client.amend(order_id, quantity=Decimal("0.02"))

    assert denied.denied is True
    assert denied.reason_code == "order_quantity_limit"
    assert denied.order.quantity == Decimal("0.01")
    assert sent.denied is False
    assert sent.order.client_order_id == order_id


def test_the_operator_is_sent_only_with_changes() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(200, json={})
        return httpx.Response(200, json={"scope": "portfolio", "state": "halted"})

    with TradewireClient(
        "http://engine.test", TOKEN, transport=httpx.MockTransport(handler), operator="alice"
    ) as client:
        client.limits()
        client.engage_kill_switch("outage", state="reducing", flatten=True)

    assert "X-Operator" not in seen[0].headers
    assert seen[1].headers["X-Operator"] == "alice"
    assert json.loads(seen[1].content) == {
        "scope": "portfolio",
        "reason": "outage",
        "flatten": True,
        "cancel_working": True,
        "state": "reducing",
    }


def test_an_amend_sends_only_the_fields_given_as_exact_strings() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"error": "not_found", "message": "no order 'a/b'"})

    with canned(handler) as client, pytest.raises(ApiError):
        client.amend("a/b", limit_price=Decimal("1.10"))

    assert seen[0].method == "PATCH"
    assert seen[0].url.raw_path == b"/api/v1/orders/a%2Fb"
    assert json.loads(seen[0].content) == {"limit_price": "1.10"}
    assert "X-Operator" not in seen[0].headers


def test_an_amend_that_times_out_has_an_unknown_outcome() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with canned(slow) as client, pytest.raises(OutcomeUnknown):
        client.amend("TW-1", quantity="1")
