"""Routing one instrument across venues: best price at the touch, preference, availability."""

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.factories import BTCUSDT, EURUSD, PAPER
from tests.runtime.engines import running_engine
from tradewire.domain.enums import Side
from tradewire.domain.errors import InvalidInput
from tradewire.domain.ids import AccountId, InstrumentId, StrategyId, VenueId
from tradewire.domain.instruments import Catalog
from tradewire.domain.signals import Signal
from tradewire.execution.routing import AccountConfig, Router
from tradewire.runtime.node import Engine
from tradewire.venues.paper.client import PaperVenue

AAPL = InstrumentId("AAPL")
TWO_VENUES: dict[str, Any] = {
    "extra_paper_venues": [{"venue": "paper-b", "seed": 99, "tick_interval": None}],
    "accounts": [{"id": "paper-1", "venue": "paper"}, {"id": "b-1", "venue": "paper-b"}],
}


def venue(engine: Engine, name: str) -> PaperVenue:
    client = engine.manager.venues[VenueId(name)]
    assert isinstance(client, PaperVenue)
    return client


async def both_quoted(engine: Engine) -> None:
    await venue(engine, "paper-b").step()
    for _ in range(3):
        await asyncio.sleep(0)


def best(engine: Engine, side: str) -> str:
    quotes = {name: engine.manager.quotes.at(VenueId(name), AAPL) for name in ("paper", "paper-b")}
    assert all(q is not None for q in quotes.values())
    if side == "buy":
        return min(quotes, key=lambda n: (quotes[n].ask, n))  # type: ignore[union-attr]
    return max(quotes, key=lambda n: (quotes[n].bid, n))  # type: ignore[union-attr]


@pytest.mark.parametrize("side", ["buy", "sell"])
async def test_an_order_naming_no_account_goes_to_the_venue_with_the_best_touch(
    tmp_path: Path, side: str
) -> None:
    async with running_engine(tmp_path, **TWO_VENUES) as engine:
        await both_quoted(engine)
        expected = best(engine, side)
        result = await engine.service.submit_signal(
            {"strategy": "s", "instrument": "AAPL", "side": side, "quantity": "1"}
        )
        order = engine.service.order(result.client_order_ids[0])
        assert order.venue == expected
        assert order.account == {"paper": "paper-1", "paper-b": "b-1"}[expected]
        touch = "ask" if side == "buy" else "bid"
        assert order.route is not None and order.route.startswith(f"best {touch} ")
        assert f"at {expected} (of paper " in order.route


async def test_without_best_price_the_preferred_venue_wins(tmp_path: Path) -> None:
    routing = {"venue_preference": {"*": ["paper-b", "paper"]}, "best_price": False}
    async with running_engine(tmp_path, routing=routing, **TWO_VENUES) as engine:
        await both_quoted(engine)
        result = await engine.service.submit_signal(
            {"strategy": "s", "instrument": "AAPL", "side": "buy", "quantity": "1"}
        )
        order = engine.service.order(result.client_order_ids[0])
        assert (order.venue, order.route) == ("paper-b", "preferred venue paper-b; its first account b-1")


async def test_a_disconnected_venue_is_passed_over(tmp_path: Path) -> None:
    routing = {"venue_preference": {"AAPL": ["paper-b", "paper"]}}
    async with running_engine(tmp_path, routing=routing, **TWO_VENUES) as engine:
        await both_quoted(engine)
        venue(engine, "paper-b").simulate_disconnect()
        result = await engine.service.submit_signal(
            {"strategy": "s", "instrument": "AAPL", "side": "buy", "quantity": "1"}
        )
        assert engine.service.order(result.client_order_ids[0]).venue == "paper"


async def test_a_named_account_at_a_venue_that_does_not_list_the_instrument_is_refused(
    tmp_path: Path,
) -> None:
    only_fx = {
        "extra_paper_venues": [
            {
                "venue": "fx-only",
                "tick_interval": None,
                "instruments": [
                    {
                        "instrument_id": "EURUSD",
                        "asset_class": "fx",
                        "base_currency": "EUR",
                        "quote_currency": "USD",
                        "tick_size": "0.00001",
                        "lot_size": "1000",
                        "min_quantity": "1000",
                        "start_price": "1.08",
                        "level_quantity": "1000000",
                    }
                ],
            }
        ],
        "accounts": [{"id": "paper-1", "venue": "paper"}, {"id": "fx-1", "venue": "fx-only"}],
    }
    async with running_engine(tmp_path, **only_fx) as engine:
        sequence = engine.manager.journal.last_sequence
        with pytest.raises(InvalidInput) as raised:
            await engine.service.submit_signal(
                {"strategy": "s", "instrument": "AAPL", "side": "buy", "quantity": "1", "account": "fx-1"}
            )
        [problem] = raised.value.problems
        assert problem.field == "account" and "does not list AAPL" in problem.problem
        assert "paper" in problem.accepted
        assert engine.manager.journal.last_sequence == sequence


async def test_each_account_is_valued_at_its_own_venues_price(tmp_path: Path) -> None:
    async with running_engine(tmp_path, **TWO_VENUES) as engine:
        await both_quoted(engine)
        for account in ("paper-1", "b-1"):
            await engine.service.submit_signal(
                {"strategy": "s", "instrument": "AAPL", "side": "buy", "quantity": "2", "account": account}
            )
        for _ in range(5):
            await asyncio.sleep(0)
        marks = {p.account: p.mark_price for p in engine.service.positions()}
        assert marks["paper-1"] == engine.manager.quotes.mark(AAPL, VenueId("paper"))
        assert marks["b-1"] == engine.manager.quotes.mark(AAPL, VenueId("paper-b"))
        assert marks["paper-1"] != marks["b-1"]


def test_an_instrument_only_one_venue_lists_goes_to_its_first_account_whatever_its_connection() -> None:
    catalog = Catalog([EURUSD])
    up = {PAPER: True}
    router = Router(
        {
            AccountId("first"): AccountConfig(account_id=AccountId("first"), venue=PAPER),
            AccountId("second"): AccountConfig(account_id=AccountId("second"), venue=PAPER),
        },
        {},
        catalog=catalog,
        connected=lambda venue_id: up[venue_id],
    )
    signal = Signal(strategy="s-1", instrument="EUR/USD", side=Side.BUY, quantity=Decimal(1))
    expected = [(AccountId("first"), signal, "only venue listing EUR/USD: paper; its first account first")]
    assert router.children(signal, StrategyId("s-1"), EURUSD, None) == expected
    up[PAPER] = False  # connection state cannot change the route of an instrument with one venue
    assert router.children(signal, StrategyId("s-1"), EURUSD, None) == expected
    with pytest.raises(InvalidInput):
        router.children(
            Signal(strategy="s-1", instrument="BTC/USDT", side=Side.BUY, quantity=Decimal(1)),
            StrategyId("s-1"),
            BTCUSDT,
            None,
        )
