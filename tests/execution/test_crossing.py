"""Internal crossing: opposite market intents in one account meet inside the engine; only the net
is sent, every strategy keeps its own fills, and the account's position is the venue's."""

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.runtime.engines import paper_of, running_engine
from tradewire.domain.enums import OrderStatus, OrderType, Side
from tradewire.domain.errors import InvalidInput
from tradewire.domain.events import InternalCross
from tradewire.execution.crossing import Intent, cross
from tradewire.journal.sqlite import sqlite_journal
from tradewire.oms.ledger import Ledger

CROSSING: dict[str, Any] = {"accounts": [{"id": "paper-1", "crossing": True}]}


def intent(key: int, side: Side, quantity: str, order_type: OrderType = OrderType.MARKET) -> Intent:
    return Intent(key=key, side=side, quantity=Decimal(quantity), order_type=order_type)


def test_the_smaller_side_crosses_whole_and_the_larger_side_first_come_first_served() -> None:
    splits = cross([intent(0, Side.BUY, "70"), intent(1, Side.SELL, "60"), intent(2, Side.BUY, "30")])
    assert [(s.crossed, s.residual) for s in splits] == [
        (Decimal(60), Decimal(10)),
        (Decimal(60), Decimal(0)),
        (Decimal(0), Decimal(30)),
    ]


def test_a_limit_order_never_crosses() -> None:
    splits = cross([intent(0, Side.BUY, "5", OrderType.LIMIT), intent(1, Side.SELL, "5")])
    assert [s.crossed for s in splits] == [Decimal(0), Decimal(0)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(Side), st.integers(1, 1000), st.booleans()), max_size=12))
def test_both_sides_cross_the_same_amount_and_nothing_crosses_beyond_its_intent(
    raw: list[tuple[Side, int, bool]],
) -> None:
    intents = [
        intent(i, side, str(q), OrderType.MARKET if market else OrderType.LIMIT)
        for i, (side, q, market) in enumerate(raw)
    ]
    splits = cross(intents)
    crossed = {
        side: sum((s.crossed for s, i in zip(splits, intents, strict=True) if i.side is side), Decimal(0))
        for side in Side
    }
    assert crossed[Side.BUY] == crossed[Side.SELL]
    market = {
        side: sum(
            (i.quantity for i in intents if i.side is side and i.order_type is OrderType.MARKET), Decimal(0)
        )
        for side in Side
    }
    assert crossed[Side.BUY] == min(market.values())
    for split, original in zip(splits, intents, strict=True):
        assert split.crossed + split.residual == original.quantity
        assert split.crossed >= 0 and split.residual >= 0


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def batch(*legs: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"strategy": s, "instrument": "AAPL", "side": side, "quantity": q} for s, side, q in legs]


async def test_opposite_intents_in_a_crossing_account_send_only_the_net(tmp_path: Path) -> None:
    async with running_engine(tmp_path, **CROSSING) as engine:
        mid = engine.manager.quotes.mark(engine.manager.instrument("AAPL").instrument_id)
        results = await engine.service.submit_signals(batch(("a", "buy", "100"), ("b", "sell", "60")))
        await settle()
        await paper_of(engine).step()
        await settle()
        assert [r.outcome for r in results] == ["accepted", "accepted"]
        venue_fills = [f for f in engine.service.fills() if f.venue == "paper"]
        assert sum(f.quantity for f in venue_fills) == 40 and {f.side for f in venue_fills} == {"buy"}
        inside = [f for f in engine.service.fills() if f.venue == "internal"]
        assert sorted((f.strategy, f.side, f.quantity, f.price) for f in inside) == [
            ("a", "buy", Decimal(60), mid),
            ("b", "sell", Decimal(60), mid),
        ]
        by_strategy = {p.strategy: p.quantity for p in engine.service.positions(by_strategy=True)}
        assert by_strategy == {"a": Decimal(100), "b": Decimal(-60)}
        [account] = engine.service.positions()
        [venue] = await paper_of(engine).positions()
        assert account.quantity == venue.quantity == 40
        statuses = [engine.service.order(i).status for r in results for i in r.client_order_ids]
        assert statuses == [OrderStatus.FILLED] * 3
        digest = engine.service.digest()
    replayed = Ledger()
    records = [r for _, r in sqlite_journal(tmp_path / "journal.sqlite").replay()]
    for record in records:
        replayed.apply(record)
    assert replayed.digest() == digest
    assert sum(isinstance(r, InternalCross) for r in records) == 1
    async with running_engine(tmp_path, **CROSSING) as restarted:
        assert [r.clean for r in restarted.service.reconciliations] == [True]


async def test_without_crossing_both_intents_go_to_the_venue(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        await engine.service.submit_signals(batch(("a", "buy", "10"), ("b", "sell", "6")))
        await settle()
        assert {f.venue for f in engine.service.fills()} == {"paper"}
        assert sum(f.quantity for f in engine.service.fills()) == 16


async def test_a_batch_with_one_bad_signal_is_refused_whole_naming_it_by_index(tmp_path: Path) -> None:
    async with running_engine(tmp_path, **CROSSING) as engine:
        sequence = engine.manager.journal.last_sequence
        bad = [*batch(("a", "buy", "10")), {"strategy": "b", "instrument": "AAPL", "side": "sell"}]
        with pytest.raises(InvalidInput) as raised:
            await engine.service.submit_signals(bad)
        assert raised.value.problems[0].field.startswith("[1].")
        assert engine.manager.journal.last_sequence == sequence
