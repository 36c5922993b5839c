import gc
import typing
from decimal import Decimal

import pytest

from tests.factories import (
    T0,
    make_accepted,
    make_canceled,
    make_created,
    make_event,
    make_filled,
    make_order,
    make_pending_cancel,
    make_spec,
    make_submitted,
)
from tradewire.domain.enums import OPEN_STATUSES, OrderStatus
from tradewire.domain.events import JournalRecord, OrderEvent, Record
from tradewire.domain.orders import TRANSITIONS, IllegalTransitionError
from tradewire.journal.codec import decode, encode
from tradewire.oms.ledger import FOLDS, KEEPS_WORKING, Ledger
from tradewire.oms.working import WorkingBook


class Unfolded(Record, frozen=True, kw_only=True):
    """A record type nobody taught the ledger."""


def decoded(record: JournalRecord) -> JournalRecord:
    """The record as a replay hands it over: decoded from its payload, with fresh copies of every name."""
    return decode(encode(record))


def test_every_journal_record_type_has_a_fold() -> None:
    missing = [kind.__name__ for kind in typing.get_args(JournalRecord) if kind not in FOLDS]

    assert missing == []


def test_a_record_type_without_a_fold_is_refused_by_name() -> None:
    record = Unfolded(event_id="event-1", ts_event=T0, ts_recorded=T0)  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="no fold for Unfolded"):
        Ledger().apply(record)  # type: ignore[arg-type]


def test_an_illegal_transition_is_still_refused_on_replay() -> None:
    spec = make_spec()
    ledger = Ledger()
    ledger.apply(decoded(make_created(spec)))
    ledger.apply(decoded(make_canceled(spec)))

    with pytest.raises(IllegalTransitionError, match="OrderAccepted is not allowed from canceled"):
        ledger.apply(decoded(make_accepted(spec)))


def test_a_kept_fill_equals_the_replayed_one_and_shares_its_orders_names() -> None:
    spec = make_spec(quantity="2")
    fill = decoded(make_filled(spec, quantity="2", price="5000.25", fee="1.10"))
    ledger = Ledger()
    for record in (make_created(spec), make_submitted(spec), make_accepted(spec)):
        ledger.apply(decoded(record))

    ledger.apply(fill)

    [kept] = ledger.fills
    order = ledger.orders[spec.client_order_id]
    assert kept == fill
    assert kept.client_order_id is order.client_order_id
    assert kept.account is order.account
    assert (order.filled_quantity, order.average_fill_price, order.fees) == (Decimal(2), fill.price, fill.fee)
    assert str(order.average_fill_price) == "5000.25"
    assert ledger.has_fill(fill.venue, fill.fill_id)


def test_a_second_fill_averages_the_price_and_adds_the_fees() -> None:
    spec = make_spec(quantity="3")
    ledger = Ledger()
    for record in (make_created(spec), make_accepted(spec)):
        ledger.apply(decoded(record))

    ledger.apply(decoded(make_filled(spec, quantity="1", price="10", fee="0.5", fill_id="F-1")))
    ledger.apply(decoded(make_filled(spec, quantity="2", price="13", fee="0.25", fill_id="F-2")))

    order = ledger.orders[spec.client_order_id]
    assert (order.filled_quantity, order.average_fill_price, order.fees) == (
        Decimal(3),
        Decimal(12),
        Decimal("0.75"),
    )


def test_retained_orders_and_fills_cost_the_garbage_collector_nothing() -> None:
    spec = make_spec(quantity="1")
    ledger = Ledger()
    for record in (make_created(spec), make_accepted(spec), make_filled(spec, quantity="1", price="1")):
        ledger.apply(decoded(record))

    assert not gc.is_tracked(ledger.orders[spec.client_order_id])
    assert not gc.is_tracked(ledger.fills[0])


@pytest.mark.parametrize(
    ("status", "event_type"),
    [(status, kind) for (status, kind) in TRANSITIONS if kind in KEEPS_WORKING],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_an_event_that_skips_the_working_recount_keeps_the_order_open_and_its_quantities(
    status: OrderStatus, event_type: type[OrderEvent]
) -> None:
    spec = make_spec(quantity="10")
    order = make_order(spec)
    order.status = status
    order.filled_quantity = Decimal(4) if status is OrderStatus.PARTIALLY_FILLED else Decimal(0)
    order.pending_quantity = Decimal(12) if status is OrderStatus.PENDING_REPLACE else None
    before = (order.quantity, order.filled_quantity, order.pending_quantity, order.worst_case_leaves)

    order.apply(make_event(event_type, spec))

    assert order.status in OPEN_STATUSES
    assert (order.quantity, order.filled_quantity, order.pending_quantity, order.worst_case_leaves) == before


def test_replayed_working_totals_equal_a_recount_of_the_open_orders() -> None:
    ledger = Ledger()
    specs = [make_spec(client_order_id=f"ord-{n}", quantity=str(n + 1)) for n in range(4)]
    for spec in specs:
        ledger.apply(decoded(make_created(spec)))
        ledger.apply(decoded(make_submitted(spec)))
        ledger.apply(decoded(make_accepted(spec, venue_order_id=f"V-{spec.client_order_id}")))
    ledger.apply(decoded(make_pending_cancel(specs[0])))
    ledger.apply(decoded(make_canceled(specs[1])))
    ledger.apply(decoded(make_filled(specs[2], quantity="1", price="5000", fill_id="F-1")))

    recount = WorkingBook.recount(list(ledger.open_orders.values()))
    assert ledger.working.totals() == recount.totals()
    assert ledger.working.totals()[0], "some orders must still be working for the check to mean much"
