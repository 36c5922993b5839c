"""Venue health over HTTP: `GET /api/v1/venues` and the health check."""

import httpx

from tradewire.venues.paper.client import PaperVenue


async def test_venues_lists_each_venue_with_its_health_and_connection(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/venues")

    assert response.status_code == 200
    [paper] = response.json()
    assert {key: paper[key] for key in ("venue", "health", "accepts_orders", "connected", "connection")} == {
        "venue": "paper",
        "health": "connected",
        "accepts_orders": True,
        "connected": True,
        "connection": "primary",
    }
    assert (paper["on_backup"], paper["reconnect_attempt"]) == (False, 0)
    assert paper["last_reconciliation"] == "clean"
    assert paper["last_reconciled_at"].endswith("Z") and paper["since"].endswith("Z")


async def test_a_venue_that_cannot_reconnect_shows_down_with_its_attempt(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient, paper: PaperVenue
) -> None:
    paper.simulate_outage()

    [venue] = (await api.get("/api/v1/venues")).json()
    health = await anonymous.get("/healthz")

    assert (venue["health"], venue["accepts_orders"], venue["connected"]) == ("down", False, False)
    assert venue["reconnect_attempt"] >= 1
    assert venue["reason"].startswith("connection primary lost") or "reconnecting" in venue["reason"]
    assert health.status_code == 503
    assert health.json()["venue_health"] == {"paper": "down"}


async def test_the_health_check_shows_each_venues_health(anonymous: httpx.AsyncClient) -> None:
    health = (await anonymous.get("/healthz")).json()

    assert health["venue_health"] == {"paper": "connected"}


async def test_venues_needs_the_token(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/api/v1/venues")).status_code == 401
