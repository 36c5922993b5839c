"""The markets file every ccxt venue needs, and the command that saves it."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.exchange import ccxt_markets
from tests.venues.ccxt.support import config
from tradewire.domain.clock import ManualClock
from tradewire.domain.ids import InstrumentId
from tradewire.venues.ccxt.client import CcxtVenue
from tradewire.venues.ccxt.save_markets import save_markets


class SavedMarketsExchange:
    """Stands in for the ccxt object: answers `load_markets` with the fake exchange's markets."""

    def __init__(self) -> None:
        self.closed = False

    async def load_markets(self) -> dict[str, Any]:
        return ccxt_markets("bybit")

    async def close(self) -> None:
        self.closed = True


def test_a_venue_without_a_markets_file_is_refused_with_how_to_save_one() -> None:
    with pytest.raises(ValidationError, match=r"markets_file is required.*save_markets bybit"):
        config("bybit", ("BTC/USDT",), markets_file=None)


async def test_saved_markets_give_the_venue_its_instruments_before_it_connects(tmp_path: Path) -> None:
    exchange = SavedMarketsExchange()
    path = tmp_path / "var" / "bybit-markets.json"

    saved = await save_markets("bybit", path, exchange=exchange)
    venue = CcxtVenue(config("bybit", ("BTC/USDT", "BTC/USDT:USDT"), markets_file=path), ManualClock())

    assert saved == len(ccxt_markets("bybit"))
    assert exchange.closed
    assert {i.instrument_id for i in venue.instruments()} == {
        InstrumentId("BTC/USDT"),
        InstrumentId("BTC/USDT:USDT"),
    }
    await venue.close()
