import httpx
import pytest

from tests.api.conftest import TOKEN
from tests.api.signals import limit_signal, post_signal
from tradewire.runtime.node import Engine

API_ROUTES = [
    ("GET", "/api/v1/orders"),
    ("GET", "/api/v1/orders/TW-any"),
    ("DELETE", "/api/v1/orders/TW-any"),
    ("GET", "/api/v1/positions"),
    ("GET", "/api/v1/fills"),
    ("GET", "/api/v1/accounts"),
    ("GET", "/api/v1/reconciliations"),
    ("POST", "/api/v1/signals"),
    ("PATCH", "/api/v1/orders/TW-any"),
    ("GET", "/api/v1/risk/limits"),
    ("PUT", "/api/v1/risk/limits"),
    ("GET", "/api/v1/kill-switch"),
    ("POST", "/api/v1/kill-switch"),
    ("POST", "/api/v1/kill-switch/resume"),
]


def assert_unauthorized(response: httpx.Response, message_part: str) -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    body = response.json()
    assert body["error"] == "unauthorized"
    assert message_part in body["message"]
    assert TOKEN not in response.text


async def test_a_request_without_an_authorization_header_is_401(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/api/v1/orders")

    assert_unauthorized(response, "missing Authorization header")


async def test_a_request_with_another_scheme_is_401(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/api/v1/orders", headers={"Authorization": f"Basic {TOKEN}"})

    assert_unauthorized(response, "Bearer scheme")


async def test_a_bearer_header_without_a_token_is_401(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/api/v1/orders", headers={"Authorization": "Bearer "})

    assert_unauthorized(response, "Bearer")


async def test_a_wrong_token_is_401_and_neither_token_is_echoed(anonymous: httpx.AsyncClient) -> None:
    wrong = "not-the-token-" + TOKEN[::-1]

    response = await anonymous.get("/api/v1/orders", headers={"Authorization": f"Bearer {wrong}"})

    assert_unauthorized(response, "not this engine's API token")
    assert wrong not in response.text


async def test_a_token_that_only_shares_a_prefix_is_401(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/api/v1/orders", headers={"Authorization": f"Bearer {TOKEN}x"})

    assert_unauthorized(response, "not this engine's API token")


async def test_the_right_token_is_200(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/api/v1/orders", headers={"Authorization": f"bearer {TOKEN}"})

    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
async def test_every_api_route_needs_the_token(anonymous: httpx.AsyncClient, method: str, path: str) -> None:
    response = await anonymous.request(method, path)

    assert_unauthorized(response, "missing Authorization header")


async def test_an_unauthenticated_signal_creates_nothing(
    anonymous: httpx.AsyncClient, engine: Engine
) -> None:
    before = engine.manager.journal.last_sequence

    response = await post_signal(anonymous, limit_signal())

    assert response.status_code == 401
    assert engine.manager.journal.last_sequence == before
    assert engine.service.orders() == []


@pytest.mark.parametrize("path", ["/healthz", "/docs", "/openapi.json"])
async def test_health_and_documentation_are_open(anonymous: httpx.AsyncClient, path: str) -> None:
    response = await anonymous.get(path)

    assert response.status_code == 200
