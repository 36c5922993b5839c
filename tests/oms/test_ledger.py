import gc
import typing
from decimal import Decimal

import msgspec
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
from tradewire.domain import sharing
from tradewire.domain.enums import OPEN_STATUSES, OrderStatus, Side, SignalOutcome
from tradewire.domain.events import JournalRecord, OrderEvent, Record, SignalHandled
from tradewire.domain.ids import EventId, SignalId
from tradewire.domain.orders import TRANSITIONS, IllegalTransitionError
from tradewire.domain.signals import Signal
from tradewire.journal.codec import decode, encode
from tradewire.oms.ledger import FOLDS, KEEPS_WORKING, Ledger
from tradewire.oms.results import SignalResult
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


@pytest.fixture
def empty_shared_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """`domain.sharing` starting empty, so it cannot reach its limit and start again mid-test."""
    monkeypatch.setattr(sharing, "_kept", {})


@pytest.mark.usefixtures("empty_shared_numbers")
def test_orders_and_fills_keep_one_copy_of_the_numbers_they_repeat() -> None:
    specs = [make_spec(client_order_id=f"ord-{n}", quantity="2", limit_price="5000.25") for n in range(2)]
    ledger = Ledger()
    for n, spec in enumerate(specs):
        ledger.apply(decoded(make_created(spec)))
        ledger.apply(decoded(make_accepted(spec, venue_order_id=f"V-{n}")))
        ledger.apply(decoded(make_filled(spec, quantity="2", price="5000.25", fee="1.10", fill_id=f"F-{n}")))

    first, second = (ledger.orders[spec.client_order_id] for spec in specs)
    assert second.quantity is first.quantity
    assert second.limit_price is first.limit_price
    assert (second.filled_quantity, second.average_fill_price, second.fees) == (
        Decimal(2),
        Decimal("5000.25"),
        Decimal("1.10"),
    )
    assert second.average_fill_price is first.average_fill_price
    assert second.fees is first.fees
    assert ledger.fills[1].price is second.average_fill_price


@pytest.mark.usefixtures("empty_shared_numbers")
def test_a_kept_signal_result_equals_the_replayed_ones_and_shares_its_orders_ids() -> None:
    spec = make_spec(client_order_id="ord-1", quantity="2")
    spec = msgspec.structs.replace(spec, signal_id=SignalId("sig-1"))
    handled = SignalHandled(
        event_id=EventId("evt-handled"),
        ts_event=T0,
        ts_recorded=T0,
        signal_id=SignalId("sig-1"),
        signal=Signal(
            strategy=spec.strategy,
            instrument=spec.instrument,
            side=Side.BUY,
            quantity=Decimal(2),
            idempotency_key="key-1",
        ),
        outcome=SignalOutcome.ACCEPTED,
        client_order_ids=(spec.client_order_id,),
    )
    ledger = Ledger()
    ledger.apply(decoded(make_created(spec)))
    replayed = decoded(handled)

    ledger.apply(replayed)

    kept = ledger.signals_by_key["key-1"]
    order = ledger.orders[spec.client_order_id]
    assert kept == SignalResult.from_record(handled, duplicate=False)
    assert replayed == handled
    assert kept.signal_id is order.signal_id
    assert kept.client_order_ids[0] is order.client_order_id


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
    assert order.status is not OrderStatus.PENDING_NEW  # no longer held for its session
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


def _journal_of_a_day() -> list[JournalRecord]:
    """Orders through most of their lifecycle, decoded as a replay hands them over."""
    specs = [make_spec(client_order_id=f"ord-{n}", quantity="3") for n in range(3)]
    records: list[JournalRecord] = []
    for spec in specs:
        records += (make_created(spec), make_submitted(spec), make_accepted(spec))
    records += (
        make_filled(specs[0], quantity="1", price="5000", fill_id="F-1"),
        make_filled(specs[0], quantity="2", price="5001", fill_id="F-2"),
        make_filled(specs[1], quantity="1", price="5002", fill_id="F-3"),
        make_pending_cancel(specs[1]),
        make_canceled(specs[1]),
    )
    return [decoded(record) for record in records]


def test_replaying_a_journal_folds_it_as_applying_each_record_does() -> None:
    records = _journal_of_a_day()
    applied = Ledger()
    for record in records:
        applied.apply(record)

    replayed = Ledger()
    replayed.replay(enumerate(records, start=1))

    assert replayed.digest() == applied.digest()
    assert (replayed.records_applied, replayed.last_event_at) == (len(records), records[-1].ts_event)
    assert replayed.working.totals() == applied.working.totals()


def test_replay_refuses_a_record_type_without_a_fold_by_name() -> None:
    record = Unfolded(event_id="event-1", ts_event=T0, ts_recorded=T0)  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="no fold for Unfolded"):
        Ledger().replay([(1, record)])  # type: ignore[list-item]


def test_an_illegal_transition_is_still_refused_by_replay() -> None:
    spec = make_spec()
    records = [decoded(make_created(spec)), decoded(make_canceled(spec)), decoded(make_accepted(spec))]

    with pytest.raises(IllegalTransitionError, match="OrderAccepted is not allowed from canceled"):
        Ledger().replay(enumerate(records, start=1))
