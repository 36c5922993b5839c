from decimal import Decimal

import httpx
import msgspec
import pytest

from tests.api.records import journaled, problem_fields, send
from tests.api.signals import market_signal, post_signal
from tradewire.domain.enums import AssetClass
from tradewire.domain.events import RiskLimitsChanged
from tradewire.domain.limits import Limits
from tradewire.runtime.node import Engine

LIMITS = "/api/v1/risk/limits"


async def put_limits(
    api: httpx.AsyncClient, scope: str, limits: dict[str, object], operator: str | None = None
) -> httpx.Response:
    return await send(api, "PUT", LIMITS, {"scope": scope, "limits": limits}, operator)


async def test_an_engine_without_configured_limits_has_none(api: httpx.AsyncClient) -> None:
    response = await api.get(LIMITS)

    assert response.status_code == 200
    assert response.json() == {}


async def test_put_sets_a_scopes_limits_and_get_shows_them_with_decimals_as_strings(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    limits = {
        "max_order_quantity": "0.50",
        "max_open_orders": 3,
        "max_gross_exposure": {"crypto_spot": "100000"},
    }

    response = await put_limits(api, "account:paper-1", limits)

    assert response.status_code == 200, response.text
    assert response.json() == {**limits}
    assert (await api.get(LIMITS)).json() == {"account:paper-1": limits}
    in_force = engine.manager.ledger.limits.scopes["account:paper-1"]
    assert in_force.max_order_quantity == Decimal("0.50")
    assert in_force.max_gross_exposure == {AssetClass.CRYPTO_SPOT: Decimal("100000")}


async def test_json_numbers_are_read_exactly_not_through_a_float(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    body = b'{"scope": "portfolio", "limits": {"max_order_notional": 1.10, "max_daily_loss": 0.1}}'

    response = await send(api, "PUT", LIMITS, body)

    assert response.status_code == 200, response.text
    assert response.json() == {"max_order_notional": "1.10", "max_daily_loss": "0.1"}
    assert engine.manager.ledger.limits.scopes["portfolio"].max_daily_loss == Decimal("0.1")


async def test_put_replaces_the_scopes_limits_rather_than_merging_them(api: httpx.AsyncClient) -> None:
    await put_limits(api, "strategy:trend-1", {"max_order_quantity": "1", "max_open_orders": 5})

    response = await put_limits(api, "strategy:trend-1", {"max_open_orders": 2})

    assert response.json() == {"max_open_orders": 2}
    assert (await api.get(LIMITS)).json() == {"strategy:trend-1": {"max_open_orders": 2}}


async def test_the_journal_records_who_changed_the_limits(api: httpx.AsyncClient, engine: Engine) -> None:
    await put_limits(api, "portfolio", {"max_open_orders": 10}, operator="alice")
    await put_limits(api, "portfolio", {"max_open_orders": 11})

    changes = [r for r in journaled(engine, RiskLimitsChanged) if r.scope == "portfolio"]

    assert [(c.changed_by, c.limits) for c in changes] == [
        ("api:alice", Limits(max_open_orders=10)),
        ("api", Limits(max_open_orders=11)),
    ]


async def test_a_limit_set_through_the_api_denies_a_signal_beyond_it(api: httpx.AsyncClient) -> None:
    await put_limits(api, "account:paper-1", {"max_order_quantity": "0.001"})

    response = await post_signal(api, market_signal(quantity="0.01"))

    assert response.status_code == 403
    assert response.json()["reason_code"] == "order_quantity_limit"


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ({"max_order_quantity": "lots"}, "limits.max_order_quantity"),
        ({"max_open_orders": 1.5}, "limits.max_open_orders"),
        ({"max_orders_per_minute": "5"}, "limits.max_orders_per_minute"),
        ({"max_gross_exposure": {"stocks": "5"}}, "limits.max_gross_exposure"),
        ({"max_daily_loss": "-100"}, "limits.max_daily_loss"),
        ({"price_collar_bps": "NaN"}, "limits.price_collar_bps"),
        ({"max_net_exposure": {"fx": "-1"}}, "limits.max_net_exposure"),
        ({"max_gross_exposure": {"fx": "Infinity"}}, "limits.max_gross_exposure.fx"),
        ({"max_order_notional": "1e20"}, "limits.max_order_notional"),
    ],
)
async def test_a_bad_limit_is_422_naming_the_field_and_changes_nothing(
    api: httpx.AsyncClient, engine: Engine, limits: dict[str, object], field: str
) -> None:
    before = engine.manager.journal.last_sequence

    response = await put_limits(api, "portfolio", limits)

    [named] = problem_fields(response)
    assert named.startswith(field)
    assert response.json()["problems"][0]["accepted"]
    assert engine.manager.journal.last_sequence == before
    assert (await api.get(LIMITS)).json() == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"limits": {}}, "scope"),
        ({"scope": "portfolio"}, "limits"),
        ({"scope": "desk:1", "limits": {}}, "scope"),
        ({"scope": "account:ghost", "limits": {}}, "scope"),
        ({"scope": "portfolio", "limits": {}, "merge": True}, "merge"),
        (b"[1, 2]", "body"),
        (b'{"scope": ', "body"),
    ],
)
async def test_a_bad_limits_body_is_422_naming_the_field(
    api: httpx.AsyncClient, body: dict[str, object] | bytes, field: str
) -> None:
    response = await send(api, "PUT", LIMITS, body)

    assert problem_fields(response) == [field]


async def test_an_unknown_account_scope_names_the_configured_accounts(api: httpx.AsyncClient) -> None:
    response = await put_limits(api, "account:ghost", {})

    [problem] = response.json()["problems"]
    assert problem["accepted"] == "one of: paper-1"


@pytest.mark.parametrize("operator", ["", "bob smith", "x" * 65, "eve;rm"])
async def test_a_bad_operator_header_is_422_and_changes_nothing(
    api: httpx.AsyncClient, engine: Engine, operator: str
) -> None:
    response = await put_limits(api, "portfolio", {"max_open_orders": 1}, operator=operator)

    assert problem_fields(response) == ["X-Operator"]
    assert "letters, digits" in response.json()["problems"][0]["accepted"]
    assert journaled(engine, RiskLimitsChanged) == []


async def test_limits_decode_into_the_domain_struct(api: httpx.AsyncClient) -> None:
    await put_limits(api, "venue:paper", {"max_spread_bps": "25", "max_quote_age_seconds": "2.5"})

    limits = msgspec.json.decode((await api.get(LIMITS)).content, type=dict[str, Limits])

    assert limits == {"venue:paper": Limits(max_spread_bps=Decimal(25), max_quote_age_seconds=Decimal("2.5"))}
