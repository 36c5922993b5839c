"""The paper venue's store: with a path every save is committed before it returns; without one,
changes wait in memory for a batch, and every question is still answered as if they had been written."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import msgspec

from tradewire.domain.enums import LiquiditySide, OrderType, Side, TimeInForce, VenueOrderStatus
from tradewire.domain.ids import AccountId, ClientOrderId, FillId, InstrumentId, VenueId, VenueOrderId
from tradewire.domain.reports import FillReport
from tradewire.venues.paper.matching import PaperOrder
from tradewire.venues.paper.store import MEMORY_BATCH_ROWS, PaperStore

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
    store = PaperStore(path)
    store.next_number("venue_order")
    store.save(orders=[paper_order("o-1")], fills=[fill(1)])

    # A second reader of the same file, while the first store is still open and never flushed by hand.
    reader = PaperStore(path)
    try:
        assert reader.knows(ClientOrderId("o-1"))
        assert reader.order(ClientOrderId("o-1")) == paper_order("o-1")
        assert [f.fill_id for f in reader.fills()] == ["P-1"]
        assert reader.next_number("venue_order") == 2
    finally:
        reader.close()
        store.close()


def test_an_in_memory_store_answers_from_changes_it_has_not_written_yet() -> None:
    store = PaperStore(None)
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


def test_an_in_memory_store_writes_a_full_batch_and_still_reads_orders_written_earlier() -> None:
    store = PaperStore(None)
    orders = [paper_order(f"o-{n}", status=VenueOrderStatus.FILLED) for n in range(MEMORY_BATCH_ROWS + 1)]
    store.save(orders=orders)
    store.save(orders=[paper_order("late")])

    assert store.order(ClientOrderId("o-0")) == orders[0]
    assert store.order(ClientOrderId("late")) == paper_order("late")
    assert [o.client_order_id for o in store.open_orders()] == ["late"]
    store.close()


def test_a_position_asked_for_once_follows_the_fills_saved_after(tmp_path: Path) -> None:
    store = PaperStore(tmp_path / "venue.sqlite")
    store.save(fills=[fill(1, quantity="5")])
    assert store.position(ACCOUNT, AAPL) == Decimal(5)

    store.save(fills=[fill(2, Side.SELL, "2")])

    assert store.position(ACCOUNT, AAPL) == Decimal(3)
    assert store.position(AccountId("another"), AAPL) == Decimal(0)
    store.close()
    reopened = PaperStore(tmp_path / "venue.sqlite")
    assert reopened.position(ACCOUNT, AAPL) == Decimal(3)
    reopened.close()
