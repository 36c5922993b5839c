from decimal import Decimal

import httpx
import pytest

from tests.api.records import journaled, problem_fields, send
from tests.api.signals import limit_signal, market_signal, post_signal, settle
from tradewire.domain.enums import OrderStatus, TradingState
from tradewire.domain.events import TradingStateChanged
from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId
from tradewire.runtime.node import Engine
from tradewire.venues.paper.client import PaperVenue

KILL_SWITCH = "/api/v1/kill-switch"
RESUME = "/api/v1/kill-switch/resume"


async def accepted_order(api: httpx.AsyncClient, engine: Engine, body: dict[str, object]) -> str:
    response = await post_signal(api, body)
    assert response.status_code == 202, response.text
    order_id: str = response.json()["client_order_ids"][0]
    await settle(engine, order_id, OrderStatus.FILLED if "limit_price" not in body else OrderStatus.ACCEPTED)
    return order_id


async def health(api: httpx.AsyncClient) -> dict[str, object]:
    view: dict[str, object] = (await api.get("/healthz")).json()
    return view


async def test_a_fresh_engine_shows_only_the_portfolio_and_it_is_active(api: httpx.AsyncClient) -> None:
    response = await api.get(KILL_SWITCH)

    assert response.status_code == 200
    assert response.json() == [{"scope": "portfolio", "state": "active", "flat": True}]


async def test_a_signal_after_the_kill_switch_is_denied_as_trading_halted(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    response = await send(api, "POST", KILL_SWITCH, {"reason": "venue outage"})

    assert response.status_code == 200, response.text
    assert response.json() == {"scope": "portfolio", "state": "halted", "canceled": [], "flatten_orders": []}
    denied = await post_signal(api, market_signal())
    assert denied.status_code == 403
    assert denied.json()["reason_code"] == "trading_halted"
    assert (await api.get(KILL_SWITCH)).json() == [{"scope": "portfolio", "state": "halted", "flat": True}]
    assert (await health(api))["trading_state"] == "halted"


async def test_after_resume_signals_pass_again(api: httpx.AsyncClient) -> None:
    await send(api, "POST", KILL_SWITCH, {"reason": "checking"})

    response = await send(api, "POST", RESUME, {"reason": "all clear"})

    assert response.status_code == 200, response.text
    assert response.json() == [{"scope": "portfolio", "state": "active", "flat": True}]
    assert (await post_signal(api, limit_signal())).status_code == 202


async def test_the_journal_records_who_engaged_and_who_resumed(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    await send(api, "POST", KILL_SWITCH, {"scope": "account:paper-1", "reason": "drill"}, operator="alice")
    await send(api, "POST", RESUME, {"scope": "account:paper-1", "reason": "drill over"}, operator="bob")

    changes = journaled(engine, TradingStateChanged)

    assert [(c.scope, c.state, c.reason, c.changed_by) for c in changes] == [
        ("account:paper-1", TradingState.HALTED, "drill", "api:alice"),
        ("account:paper-1", TradingState.ACTIVE, "drill over", "api:bob"),
    ]


async def test_engaging_cancels_the_scopes_working_orders_unless_told_to_keep_them(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    kept = await accepted_order(api, engine, limit_signal(strategy="keeper"))
    canceled = await accepted_order(api, engine, limit_signal(strategy="loser"))

    keep = await send(
        api, "POST", KILL_SWITCH, {"scope": "strategy:keeper", "reason": "r", "cancel_working": False}
    )
    cancel = await send(api, "POST", KILL_SWITCH, {"scope": "strategy:loser", "reason": "r"})

    assert keep.json()["canceled"] == []
    assert cancel.json()["canceled"] == [canceled]
    await settle(engine, canceled, OrderStatus.CANCELED)
    assert engine.manager.ledger.orders[ClientOrderId(kept)].status is OrderStatus.ACCEPTED


async def test_reducing_denies_an_order_that_would_increase_the_position(api: httpx.AsyncClient) -> None:
    response = await send(api, "POST", KILL_SWITCH, {"reason": "wind down", "state": "reducing"})

    assert response.json()["state"] == "reducing"
    denied = await post_signal(api, market_signal())
    assert denied.status_code == 403
    assert denied.json()["reason_code"] == "trading_reducing"


async def test_flatten_sends_reduce_only_orders_that_bring_the_position_to_zero(
    api: httpx.AsyncClient, engine: Engine, paper: PaperVenue
) -> None:
    await accepted_order(api, engine, market_signal(quantity="0.02"))
    resting = await accepted_order(api, engine, limit_signal())

    response = await send(api, "POST", KILL_SWITCH, {"reason": "flatten all", "flatten": True}, "alice")

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["state"] == "reducing"
    assert result["canceled"] == [resting]
    [flatten] = result["flatten_orders"]
    assert flatten["side"] == "sell"
    assert flatten["quantity"] == "0.02"
    assert flatten["denied"] is None
    order = engine.manager.ledger.orders[ClientOrderId(flatten["client_order_id"])]
    assert order.reduce_only
    await paper.step()
    await settle(engine, flatten["client_order_id"], OrderStatus.FILLED)
    quantity = engine.manager.ledger.portfolio.account_quantity(
        AccountId("paper-1"), InstrumentId("BTC/USDT")
    )
    assert quantity == Decimal(0)
    await settle(engine, resting, OrderStatus.CANCELED)
    assert (await api.get(KILL_SWITCH)).json() == [{"scope": "portfolio", "state": "reducing", "flat": True}]


async def test_flatten_with_nothing_held_sends_nothing(api: httpx.AsyncClient) -> None:
    response = await send(api, "POST", KILL_SWITCH, {"reason": "just in case", "flatten": True})

    assert response.json()["flatten_orders"] == []
    assert response.json()["state"] == "reducing"


async def test_the_kill_switch_needs_the_token(anonymous: httpx.AsyncClient, engine: Engine) -> None:
    response = await send(anonymous, "POST", KILL_SWITCH, {"reason": "x"})

    assert response.status_code == 401
    assert journaled(engine, TradingStateChanged) == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["reason"]),
        ({"reason": ""}, ["reason"]),
        ({"reason": "   "}, ["reason"]),
        ({"reason": "x" * 501}, ["reason"]),
        ({"reason": "r", "state": "active"}, ["state"]),
        ({"reason": "r", "flatten": True, "state": "halted"}, ["state"]),
        ({"reason": "r", "flatten": True, "cancel_working": False}, ["cancel_working"]),
        ({"reason": "r", "flatten": "yes"}, ["flatten"]),
        ({"reason": "r", "scope": "everything"}, ["scope"]),
        ({"reason": "r", "scope": "venue:nowhere"}, ["scope"]),
        ({"reason": "r", "force": True}, ["force"]),
    ],
)
async def test_a_bad_kill_switch_request_is_422_naming_the_field_and_changes_nothing(
    api: httpx.AsyncClient, engine: Engine, body: dict[str, object], fields: list[str]
) -> None:
    response = await send(api, "POST", KILL_SWITCH, body)

    assert problem_fields(response) == fields
    assert journaled(engine, TradingStateChanged) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": "r", "scope": "account:ghost"}, "scope"),
        ({"reason": "r", "all": 1}, "all"),
    ],
)
async def test_a_bad_resume_request_is_422_naming_the_field(
    api: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    assert problem_fields(await send(api, "POST", RESUME, body)) == [field]


async def test_a_bad_operator_on_the_kill_switch_is_422(api: httpx.AsyncClient, engine: Engine) -> None:
    response = await send(api, "POST", KILL_SWITCH, {"reason": "r"}, operator="not ok")

    assert problem_fields(response) == ["X-Operator"]
    assert journaled(engine, TradingStateChanged) == []


async def test_a_reconciliation_can_be_asked_for_and_is_listed(api: httpx.AsyncClient) -> None:
    ran = await api.post("/api/v1/reconciliations")
    assert ran.status_code == 200
    [report] = ran.json()
    assert (report["venue"], report["fills_applied"], report["position_differences"]) == ("paper", 0, [])
    listed = await api.get("/api/v1/reconciliations")
    assert listed.json()[0] == report
    assert len(listed.json()) == 2, "the start-up reconciliation, then this one"
