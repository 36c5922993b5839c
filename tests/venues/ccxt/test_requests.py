"""The requests our adapter builds match ccxt's recorded ones, with our client order ID in its field."""

import asyncio
from typing import Any

import pytest

from tests.factories import make_spec
from tradewire.domain.enums import OrderType, Side, VenueOrderStatus
from tradewire.domain.ids import ClientOrderId, InstrumentId, VenueOrderId
from tradewire.domain.reports import OrderStatusReport
from tradewire.venues.ccxt.exchanges import PROFILES
from tradewire.venues.ccxt.mapping import encode_client_order_id
from tradewire.venues.port import OrderRef

from .support import RecordingFetch, Request, connected_venue, fixture, recorded_case

OUR_ID = ClientOrderId("TWmifx3k2a-1")


def comparable(fields: Any, skip: set[str]) -> Any:
    if isinstance(fields, list):
        return [comparable(item, skip) for item in fields]
    return {key: value for key, value in fields.items() if key not in skip}


def answer_with(response: Any) -> RecordingFetch:
    return RecordingFetch(answer=lambda request: response)


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


CREATE_CASES = [
    # exchange, recorded description, (symbol, side, quantity, limit price)
    ("binance", "Spot limit buy order", ("LTC/USDT", Side.BUY, "0.2", "50")),
    ("binance", "Swap limit buy order", ("LTC/USDT:USDT", Side.BUY, "0.1", "55")),
    ("bybit", "Spot limit order", ("ADA/USDT", Side.BUY, "50", "0.1")),
    ("bybit", "Swap limit order", ("ADA/USDT:USDT", Side.BUY, "50", "0.1")),
    ("okx", "Spot limit buy order", ("LTC/USDT", Side.BUY, "2", "50")),
]


@pytest.mark.parametrize(("exchange", "description", "order"), CREATE_CASES)
async def test_a_limit_order_is_the_recorded_create_request_plus_our_client_order_id(
    exchange: str, description: str, order: tuple[str, Side, str, str]
) -> None:
    symbol, side, quantity, price = order
    case = recorded_case(exchange, "request", "createOrder", description)
    skip = set(fixture("request", exchange)["skipKeys"])
    rule = PROFILES[exchange].client_id  # type: ignore[index]
    fetch = answer_with(create_answer(exchange))
    venue, received = await connected_venue(exchange, (symbol,), fetch)
    [instrument] = venue.instruments()

    spec = make_spec(
        client_order_id=OUR_ID, instrument=instrument, side=side, quantity=quantity, limit_price=price
    )
    await venue.submit(spec)

    [request] = fetch.requests
    expected = Request(case["url"], "POST", case["output"])
    assert request.path == expected.path
    sent = request.fields
    ours = sent[0] if isinstance(sent, list) else sent
    assert ours[rule.wire_field] == encode_client_order_id(OUR_ID, rule)
    assert comparable(sent, skip | {rule.wire_field}) == comparable(expected.fields, skip | {"tag"})
    await settle()
    [report] = received.reports
    assert isinstance(report, OrderStatusReport)
    assert (report.client_order_id, report.status) == (OUR_ID, VenueOrderStatus.ACCEPTED)
    assert report.instrument == instrument.instrument_id
    assert report.venue_order_id is not None
    await venue.close()


def create_answer(exchange: str) -> Any:
    if exchange == "binance":
        return recorded_case("binance", "response", "createOrder", "spot +selfTradePrevention +iceberg")[
            "httpResponse"
        ]
    if exchange == "bybit":
        return recorded_case("bybit", "response", "createOrder", "create spot order")["httpResponse"]
    return {
        "code": "0",
        "data": [{"clOrdId": "x", "ordId": "636708553755021312", "sCode": "0", "sMsg": ""}],
        "msg": "",
    }


async def test_okx_gets_a_client_order_id_without_the_dash_it_refuses() -> None:
    rule = PROFILES["okx"].client_id

    wire = encode_client_order_id(OUR_ID, rule)

    assert wire.isalnum()
    assert len(wire) <= 32


CANCEL_CASES = [
    ("binance", "Spot cancelOrder", "LTC/USDT", "464950"),
    ("bybit", "Spot cancelOrder", "LTC/USDT", "1513125485218108928"),
    ("okx", "Spot cancel order", "LTC/USDT", "635561007938625536"),
]


@pytest.mark.parametrize(("exchange", "description", "symbol", "venue_order_id"), CANCEL_CASES)
async def test_a_cancel_by_venue_order_id_is_the_recorded_request(
    exchange: str, description: str, symbol: str, venue_order_id: str
) -> None:
    case = recorded_case(exchange, "request", "cancelOrder", description)
    skip = set(fixture("request", exchange)["skipKeys"])
    fetch = answer_with({})
    venue, _ = await connected_venue(exchange, (symbol,), fetch)
    ref = OrderRef(
        client_order_id=OUR_ID,
        venue_order_id=VenueOrderId(venue_order_id),
        account=venue_account(exchange),
        instrument=InstrumentId(symbol),
    )

    await venue.cancel(ref)

    [request] = fetch.requests
    expected = Request(case["url"], "POST", case.get("output"))
    assert request.path == expected.path
    assert comparable(request.fields, skip) == comparable(expected.fields, skip)
    await venue.close()


@pytest.mark.parametrize("exchange", ["binance", "okx"])
async def test_a_cancel_without_the_venue_id_addresses_our_client_order_id(exchange: str) -> None:
    rule = PROFILES[exchange].client_id  # type: ignore[index]
    fetch = answer_with({})
    venue, _ = await connected_venue(exchange, ("LTC/USDT",), fetch)
    ref = OrderRef(
        client_order_id=OUR_ID,
        venue_order_id=None,
        account=venue_account(exchange),
        instrument=InstrumentId("LTC/USDT"),
    )

    await venue.cancel(ref)

    [request] = fetch.requests
    assert rule.query_param is not None
    fields = request.fields
    fields = fields[0] if isinstance(fields, list) else fields
    assert fields[rule.query_param] == encode_client_order_id(OUR_ID, rule)
    assert "orderId" not in fields and "ordId" not in fields
    await venue.close()


FETCH_CASES = [
    ("binance", "Spot fetchOrder", "LTC/USDT", "orderId"),
    ("okx", "Spot fetch order", "LTC/USDT", "ordId"),
]


@pytest.mark.parametrize(("exchange", "description", "symbol", "id_field"), FETCH_CASES)
async def test_order_status_asks_for_the_order_by_our_client_order_id(
    exchange: str, description: str, symbol: str, id_field: str
) -> None:
    case = recorded_case(exchange, "request", "fetchOrder", description)
    skip = set(fixture("request", exchange)["skipKeys"]) | {id_field}
    rule = PROFILES[exchange].client_id  # type: ignore[index]
    fetch = answer_with(fetch_answer(exchange))
    venue, _ = await connected_venue(exchange, (symbol,), fetch)

    report = await venue.order_status(OUR_ID)

    [request] = fetch.requests
    expected = Request(case["url"], "GET", None)
    assert request.path == expected.path
    assert rule.query_param is not None
    fields = request.fields
    assert fields.pop(rule.query_param) == encode_client_order_id(OUR_ID, rule)
    assert comparable(fields, skip) == comparable(expected.fields, skip)
    assert report is not None
    assert report.client_order_id == OUR_ID
    assert report.order_type is OrderType.LIMIT
    await venue.close()


def fetch_answer(exchange: str) -> Any:
    rule = PROFILES[exchange].client_id  # type: ignore[index]
    wire = encode_client_order_id(OUR_ID, rule)
    if exchange == "binance":
        answer = dict(
            recorded_case("binance", "response", "createOrder", "spot +selfTradePrevention +iceberg")[
                "httpResponse"
            ]
        )
        answer.update(symbol="LTCUSDT", clientOrderId=wire)
        return answer
    return {
        "code": "0",
        "msg": "",
        "data": [
            {
                "instId": "LTC-USDT",
                "ordId": "636708553755021312",
                "clOrdId": wire,
                "ordType": "limit",
                "side": "buy",
                "sz": "2",
                "px": "50",
                "accFillSz": "0",
                "state": "live",
                "cTime": "1700000000000",
                "uTime": "1700000000000",
            }
        ],
    }


def venue_account(exchange: str) -> Any:
    return f"{exchange}-1"


async def test_nothing_is_delivered_from_inside_submit() -> None:
    received_during: list[int] = []
    fetch = answer_with(create_answer("bybit"))
    venue, received = await connected_venue("bybit", ("ADA/USDT",), fetch)
    [instrument] = venue.instruments()

    await venue.submit(
        make_spec(client_order_id=OUR_ID, instrument=instrument, quantity="50", limit_price="0.1")
    )
    received_during.append(len(received.reports))
    await settle()

    assert received_during == [0]
    assert len(received.reports) == 1
    await venue.close()
