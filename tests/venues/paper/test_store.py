"""The paper venue's store: with a path every save is committed before it returns; without one the
state is plain Python data, and a closed order, kept compacted, reads back exactly as it was saved."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from tradewire.domain.enums import LiquiditySide, OrderType, Side, TimeInForce, VenueOrderStatus
from tradewire.domain.ids import AccountId, ClientOrderId, FillId, InstrumentId, VenueId, VenueOrderId
from tradewire.domain.reports import FillReport
from tradewire.venues.paper.matching import PaperOrder
from tradewire.venues.paper.store import SqliteStore, open_store

from .support import ACCOUNT, START

AAPL = InstrumentId("AAPL")


def paper_order(client_order_id: str, *, status: VenueOrderStatus = VenueOrderStatus.ACCEPTED) -> PaperOrder:
    return PaperOrder(
        client_order_id=ClientOrderId(client_order_id),
        venue_order_id=VenueOrderId(f"PV-{client_order_id}"),
        account=ACCOUNT,
        instrument=AAPL,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        quantity=Decimal(10),
        limit_price=Decimal(150),
        status=status,
        sequence=1,
        ts_created=START,
        ts_updated=START,
    )


def fill(number: int, side: Side = Side.BUY, quantity: str = "1", seconds: int = 0) -> FillReport:
    return FillReport(
        venue=VenueId("paper"),
        account=ACCOUNT,
        client_order_id=ClientOrderId("o-1"),
        venue_order_id=VenueOrderId("PV-1"),
        fill_id=FillId(f"P-{number}"),
        instrument=AAPL,
        side=side,
        quantity=Decimal(quantity),
        price=Decimal(150),
        fee=Decimal(0),
        fee_currency="USD",
        liquidity=LiquiditySide.TAKER,
        ts_event=START + timedelta(seconds=seconds),
    )


def test_a_store_with_a_path_has_committed_every_save_before_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "venue.sqlite"
    store = open_store(path)
    store.next_number("venue_order")
    store.save(orders=[paper_order("o-1")], fills=[fill(1)])

    # A second reader of the same file, while the first store is still open and never flushed by hand.
    reader = SqliteStore(path)
    try:
        assert reader.knows(ClientOrderId("o-1"))
        assert reader.order(ClientOrderId("o-1")) == paper_order("o-1")
        assert [f.fill_id for f in reader.fills()] == ["P-1"]
        assert reader.next_number("venue_order") == 2
    finally:
        reader.close()
        store.close()


def test_an_in_memory_store_answers_from_changes_it_has_not_written_yet() -> None:
    store = open_store(None)
    store.save(orders=[paper_order("o-1")], fills=[fill(1), fill(2, Side.SELL, "3", seconds=5)])
    filled = msgspec.structs.replace(paper_order("o-1"), status=VenueOrderStatus.FILLED)
    store.save(orders=[filled])

    assert store.knows(ClientOrderId("o-1"))
    assert not store.knows(ClientOrderId("o-2"))
    assert store.order(ClientOrderId("o-1")) == filled
    assert store.open_orders() == []
    assert [f.fill_id for f in store.fills(since=START + timedelta(seconds=1))] == ["P-2"]
    assert store.position(ACCOUNT, AAPL) == Decimal(-2)
    store.close()


def test_an_in_memory_store_reads_back_closed_orders_exactly_as_saved() -> None:
    store = open_store(None)
    rejected = msgspec.structs.replace(
        paper_order("o-1", status=VenueOrderStatus.REJECTED),
        venue_order_id=None,
        limit_price=Decimal("150.10"),
        quantity=Decimal("10.0"),
        reason="price off the tick",
    )
    expiring = msgspec.structs.replace(
        paper_order("o-2", status=VenueOrderStatus.EXPIRED),
        stop_price=Decimal("149.5"),
        triggered=True,
        reduce_only=True,
        filled_quantity=Decimal("2.50"),
        filled_value=Decimal("375.125"),
        expires_at=START + timedelta(hours=6),
        ts_updated=START + timedelta(microseconds=1),
    )
    store.save(orders=[rejected, expiring, paper_order("o-3")])

    for saved in (rejected, expiring):
        read = store.order(saved.client_order_id)
        assert read == saved
        assert read is not None
        assert msgspec.json.encode(read) == msgspec.json.encode(saved)  # same digits, same types
    assert [o.client_order_id for o in store.open_orders()] == ["o-3"]
    assert store.knows(ClientOrderId("o-1"))
    store.close()


def test_an_in_memory_store_moves_an_order_between_working_and_closed() -> None:
    store = open_store(None)
    store.save(orders=[paper_order("o-1"), paper_order("o-2")])
    filled = msgspec.structs.replace(paper_order("o-1"), status=VenueOrderStatus.FILLED)
    store.save(orders=[filled])

    assert [o.client_order_id for o in store.open_orders()] == ["o-2"]
    assert [o.client_order_id for o in store.open_orders(AccountId("another"))] == []
    assert store.order(ClientOrderId("o-1")) == filled
    assert store.order(ClientOrderId("unknown")) is None
    store.close()


def test_an_in_memory_store_reads_fills_back_exactly_and_filters_them() -> None:
    store = open_store(None)
    other = msgspec.structs.replace(fill(3), account=AccountId("another"), instrument=InstrumentId("MSFT"))
    store.save(fills=[fill(1), fill(2, seconds=10), other])

    read = store.fills()
    assert read == [fill(1), fill(2, seconds=10), other]
    assert [type(f) for f in read] == [FillReport] * 3
    assert [msgspec.json.encode(f) for f in read] == [
        msgspec.json.encode(f) for f in (fill(1), fill(2, seconds=10), other)
    ]
    assert [f.fill_id for f in store.fills(since=START + timedelta(seconds=10))] == ["P-2"]
    assert [f.fill_id for f in store.fills(account=AccountId("another"))] == ["P-3"]
    assert [f.fill_id for f in store.fills(instrument=AAPL)] == ["P-1", "P-2"]
    assert store.position(AccountId("another"), InstrumentId("MSFT")) == Decimal(1)
    store.save(feed_state={"step": "1", "seed": "0"})
    store.save(feed_state={"step": "2"})
    assert store.feed_state() == {"step": "2", "seed": "0"}
    store.close()


@pytest.mark.parametrize("in_file", [True, False])
def test_a_position_asked_for_once_follows_the_fills_saved_after(tmp_path: Path, in_file: bool) -> None:
    store = open_store(tmp_path / "venue.sqlite" if in_file else None)
    store.save(fills=[fill(1, quantity="5")])
    assert store.position(ACCOUNT, AAPL) == Decimal(5)

    store.save(fills=[fill(2, Side.SELL, "2")])

    assert store.position(ACCOUNT, AAPL) == Decimal(3)
    assert store.position(AccountId("another"), AAPL) == Decimal(0)
    store.close()
    if not in_file:
        return
    reopened = open_store(tmp_path / "venue.sqlite")
    assert reopened.position(ACCOUNT, AAPL) == Decimal(3)
    reopened.close()
