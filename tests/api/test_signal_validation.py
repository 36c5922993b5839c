"""Every kind of bad signal gets a 422 naming each problem, and changes nothing."""

from typing import Any, NamedTuple

import httpx
import msgspec
import pytest

from tests.api.signals import limit_signal, market_signal, post_signal
from tradewire.runtime.node import Engine


class Invalid(NamedTuple):
    name: str
    body: dict[str, Any] | bytes
    field: str
    problem: str
    """A part of the problem's text."""
    accepted: str
    """A part of what the problem says is accepted."""


INVALID = [
    Invalid(
        "unknown field", market_signal(colour="red"), "colour", "is not a signal field", "idempotency_key"
    ),
    Invalid("wrong type", market_signal(quantity=True), "quantity", "got `bool`", "positive decimal"),
    Invalid("not a number", market_signal(quantity="abc"), "quantity", "Invalid decimal", "positive decimal"),
    Invalid("unknown side", market_signal(side="up"), "side", "Invalid enum value 'up'", "buy, sell"),
    Invalid(
        "missing strategy",
        {"instrument": "BTC/USDT", "side": "buy", "quantity": "1"},
        "strategy",
        "is required",
        "1-64 characters",
    ),
    Invalid(
        "bad strategy name", market_signal(strategy="trend 1!"), "strategy", "not a valid name", "letters"
    ),
    Invalid(
        "negative quantity",
        market_signal(quantity="-1"),
        "quantity",
        "greater than zero, got -1",
        "positive",
    ),
    Invalid("zero quantity", market_signal(quantity="0"), "quantity", "greater than zero", "positive"),
    Invalid("NaN", market_signal(quantity="NaN"), "quantity", "NaN is not a finite number", "positive"),
    Invalid("infinity", market_signal(quantity="Infinity"), "quantity", "is not a finite number", "positive"),
    Invalid(
        "quantity and notional",
        market_signal(notional="100"),
        "quantity",
        "exactly one of quantity, notional or target_position",
        "quantity or notional with a side",
    ),
    Invalid(
        "no size",
        {"strategy": "trend-1", "instrument": "BTC/USDT", "side": "buy"},
        "quantity",
        "given: none",
        "target_position without one",
    ),
    Invalid(
        "missing side",
        {"strategy": "trend-1", "instrument": "BTC/USDT", "quantity": "0.01"},
        "side",
        "is required with quantity or notional",
        "buy, sell",
    ),
    Invalid(
        "side with target",
        {"strategy": "trend-1", "instrument": "BTC/USDT", "side": "buy", "target_position": "1"},
        "side",
        "must be omitted with target_position",
        "no side",
    ),
    Invalid(
        "limit without limit_price",
        market_signal(order_type="limit"),
        "limit_price",
        "is required for a limit order",
        "positive",
    ),
    Invalid(
        "stop_price on a market order",
        market_signal(stop_price="70000"),
        "stop_price",
        "not used by a market",
        "stop",
    ),
    Invalid(
        "limit_price on a market order",
        market_signal(limit_price="1"),
        "limit_price",
        "not used by a market",
        "limit",
    ),
    Invalid(
        "stop without stop_price",
        market_signal(order_type="stop"),
        "stop_price",
        "is required for a stop order",
        "positive",
    ),
    Invalid(
        "unknown order type",
        market_signal(order_type="iceberg"),
        "order_type",
        "Invalid enum",
        "stop_limit",
    ),
    Invalid(
        "unknown time in force", market_signal(time_in_force="gtd"), "time_in_force", "Invalid enum", "ioc"
    ),
    Invalid("empty key", market_signal(idempotency_key=""), "idempotency_key", "has 0 characters", "1-128"),
    Invalid(
        "unknown instrument",
        market_signal(instrument="DOGE/EUR"),
        "instrument",
        "not a configured",
        "BTC/USDT",
    ),
    Invalid(
        "unknown account",
        market_signal(account="nobody"),
        "account",
        "not a configured account",
        "paper-1",
    ),
    Invalid("malformed JSON", b'{"strategy": "trend-1",', "body", "not valid JSON", "a JSON object"),
    Invalid("empty body", b"", "body", "not valid JSON", "a JSON object"),
    Invalid(
        "non-object JSON", b'["buy", "BTC/USDT"]', "body", "Expected `object`, got `array`", "JSON object"
    ),
    Invalid("a JSON string", b'"buy BTC"', "body", "Expected `object`, got `str`", "JSON object"),
]


@pytest.mark.parametrize("case", INVALID, ids=[case.name for case in INVALID])
async def test_an_invalid_signal_is_422_naming_the_field_and_changes_nothing(
    api: httpx.AsyncClient, engine: Engine, case: Invalid
) -> None:
    journal_before = engine.manager.journal.last_sequence

    response = await post_signal(api, case.body)

    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["error"] == "invalid_input"
    matching = [p for p in answer["problems"] if p["field"] == case.field]
    assert matching, answer
    assert case.problem in matching[0]["problem"]
    assert case.accepted in matching[0]["accepted"]
    assert case.field in answer["message"]
    assert engine.manager.journal.last_sequence == journal_before
    assert (await api.get("/api/v1/orders")).json() == []


async def test_every_problem_of_a_signal_is_reported_at_once(api: httpx.AsyncClient) -> None:
    body = market_signal(quantity="-5", stop_price="0", strategy="bad name")

    response = await post_signal(api, body)

    assert response.status_code == 422
    fields = sorted(p["field"] for p in response.json()["problems"])
    assert fields == ["quantity", "stop_price", "stop_price", "strategy"]
    assert response.json()["message"].startswith("4 problems with the input")


async def test_a_body_over_64_kib_is_413_and_changes_nothing(api: httpx.AsyncClient, engine: Engine) -> None:
    journal_before = engine.manager.journal.last_sequence
    body = msgspec.json.encode(limit_signal(account="x" * (65 * 1024)))

    response = await post_signal(api, body)

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert "65536 bytes (64 KiB)" in response.json()["message"]
    assert engine.manager.journal.last_sequence == journal_before


async def test_a_large_body_without_a_content_length_is_cut_off_at_the_limit(api: httpx.AsyncClient) -> None:
    async def chunks() -> Any:
        for _ in range(100):
            yield b" " * 1024

    response = await api.post("/api/v1/signals", content=chunks())

    assert response.status_code == 413
    assert "more than that" in response.json()["message"]


async def test_a_body_just_under_the_limit_is_read(api: httpx.AsyncClient) -> None:
    body = msgspec.json.encode(limit_signal())
    padded = body + b" " * (64 * 1024 - len(body))

    response = await post_signal(api, padded)

    assert response.status_code == 202
