"""An engine on the paper venue in manual mode, and HTTP clients for its API, all in-process."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.runtime.engines import paper_of, running_engine
from tradewire.api import create_app
from tradewire.runtime.node import Engine
from tradewire.venues.paper.client import PaperVenue

TOKEN = "api-test-token-0123456789"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """Started, reconciled and with one quote per instrument (the feed stepped once)."""
    async with running_engine(tmp_path) as engine:
        yield engine


@pytest.fixture
def paper(engine: Engine) -> PaperVenue:
    return paper_of(engine)


@pytest.fixture
async def anonymous(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sends no Authorization header; 500s come back as responses."""
    transport = httpx.ASGITransport(app=create_app(engine.service, TOKEN), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://tradewire.test") as client:
        yield client


@pytest.fixture
def api(anonymous: httpx.AsyncClient) -> httpx.AsyncClient:
    anonymous.headers["Authorization"] = f"Bearer {TOKEN}"
    return anonymous
