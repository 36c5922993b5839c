"""Offline helpers: recorded ccxt fixtures, a venue built on them, and a `fetch` that records requests.

The fixtures are verbatim copies of ccxt's own static test files (see fixtures/README.md).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import SecretStr

from tradewire.domain.clock import ManualClock
from tradewire.domain.reports import ExecutionReport
from tradewire.venues.ccxt.client import CcxtVenue
from tradewire.venues.ccxt.config import CcxtVenueConfig, Credentials

FIXTURES = Path(__file__).parent / "fixtures"
API_KEY = "test-api-key-5f1c0d"
SECRET = "test-secret-9a7be3c4d2"
PASSWORD = "test-passphrase-77"


def fixture(kind: str, exchange: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / kind / f"{exchange}.json").read_text())
    return data


def recorded_case(exchange: str, kind: str, method: str, description: str) -> dict[str, Any]:
    for case in fixture(kind, exchange)["methods"][method]:
        if case["description"] == description:
            found: dict[str, Any] = case
            return found
    raise KeyError(f"no {kind} case {description!r} for {exchange} {method}")


def config(exchange: str, symbols: tuple[str, ...], **overrides: Any) -> CcxtVenueConfig:
    fields: dict[str, Any] = {
        "venue": exchange,
        "exchange": exchange,
        "account": f"{exchange}-1",
        "symbols": symbols,
        "markets_file": FIXTURES / "markets" / f"{exchange}.json",
        "watch": False,
        **overrides,
    }
    return CcxtVenueConfig(**fields)


CREDENTIALS = Credentials(api_key=SecretStr(API_KEY), secret=SecretStr(SECRET), password=SecretStr(PASSWORD))


@dataclass
class Request:
    url: str
    method: str
    body: str | None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def fields(self) -> Any:
        """Query and body parameters together (a JSON body is parsed; a urlencoded one split)."""
        query = dict(parse_qsl(urlsplit(self.url).query))
        if not self.body:
            return query
        try:
            parsed = json.loads(self.body)
        except ValueError:
            return {**query, **dict(parse_qsl(self.body))}
        if isinstance(parsed, dict):
            return {**query, **parsed}
        return parsed


@dataclass
class RecordingFetch:
    """Stands in for `exchange.fetch`: records each request and answers from `answer` (or raises)."""

    answer: Callable[[Request], Any] = lambda request: {}
    requests: list[Request] = field(default_factory=list)

    async def __call__(self, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        request = Request(url, method, body)
        self.requests.append(request)
        return self.answer(request)


async def no_network(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
    raise AssertionError(f"the test tried the network: {method} {url}")


@dataclass
class Received:
    reports: list[ExecutionReport] = field(default_factory=list)
    connection: list[bool] = field(default_factory=list)


async def connected_venue(
    exchange: str, symbols: tuple[str, ...], fetch: Any = no_network, **overrides: Any
) -> tuple[CcxtVenue, Received]:
    venue = CcxtVenue(config(exchange, symbols, **overrides), ManualClock(), CREDENTIALS)
    venue.exchange.fetch = fetch
    received = Received()
    await venue.connect(
        received.reports.append, lambda quote: None, lambda _venue, up: received.connection.append(up)
    )
    return venue, received
