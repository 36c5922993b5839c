"""What must hold after a fault scenario has healed: the engine's state is the venue's truth.

Each check returns plain sentences naming the order or fill at fault, so a failing seed says what
broke without a debugger. The venue is asked directly (never through the faulty wrapper).
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tradewire.domain.enums import OrderStatus
from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId, VenueId
from tradewire.domain.reports import FillReport, OrderStatusReport
from tradewire.journal.store import JournalStore
from tradewire.oms.ledger import Ledger
from tradewire.oms.reconcile import EXTERNAL
from tradewire.venues.port import VenueClient

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
IN_FLIGHT = frozenset(
    {
        OrderStatus.PENDING_NEW,
        OrderStatus.SUBMITTED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
    }
)
NEVER_SENT = frozenset({OrderStatus.DENIED, OrderStatus.REJECTED, OrderStatus.CANCELED})
"""What an order the venue has never seen may end as: denied, rejected or canceled before sending."""


@dataclass(frozen=True)
class VenueTruth:
    """What the venue says, asked after healing."""

    fills: list[FillReport]
    statuses: dict[ClientOrderId, OrderStatusReport]
    """Every order the venue knows among the ledger's and its open ones."""
    open_orders: list[OrderStatusReport]
    positions: dict[tuple[AccountId, InstrumentId], Decimal]


async def venue_truth(venue: VenueClient, ledger: Ledger) -> VenueTruth:
    open_orders = await venue.open_orders()
    statuses = {report.client_order_id: report for report in open_orders}
    for client_order_id in ledger.orders:
        report = await venue.order_status(client_order_id)
        if report is not None:
            statuses[client_order_id] = report
    return VenueTruth(
        fills=await venue.fills_since(EPOCH),
        statuses=statuses,
        open_orders=open_orders,
        positions={(p.account, p.instrument): p.quantity for p in await venue.positions() if p.quantity},
    )


def replayed_digest(journal: JournalStore) -> str:
    """The digest of a fresh ledger folded from the journal, as a restart would build it."""
    ledger = Ledger()
    for _, record in journal.replay():
        ledger.apply(record)
    return ledger.digest()


def check_invariants(
    ledger: Ledger,
    truth: VenueTruth,
    *,
    venue: VenueId,
    submits: Counter[ClientOrderId],
    replayed: str,
) -> list[str]:
    """Every invariant that does not hold, as sentences; empty when the engine kept its promises.

    `submits` counts the submit requests that reached the venue, per client order ID, across
    every engine incarnation of the run.
    """
    return [
        *no_lost_or_phantom_fill(ledger, truth, venue),
        *no_duplicate_order(ledger, truth, submits),
        *every_order_settled(ledger, truth),
        *positions_match(ledger, truth),
        *(
            []
            if replayed == ledger.digest()
            else ["replaying the journal into a fresh ledger gives a different digest than the live one"]
        ),
    ]


def no_lost_or_phantom_fill(ledger: Ledger, truth: VenueTruth, venue: VenueId) -> list[str]:
    theirs = {fill.fill_id: fill for fill in truth.fills}
    ours = Counter(fill.fill_id for fill in ledger.fills if fill.venue == venue)
    problems = [
        f"lost fill {fill_id} of {fill.client_order_id} ({fill.quantity} at {fill.price}): "
        "the venue has it, the ledger does not"
        for fill_id, fill in theirs.items()
        if fill_id not in ours
    ]
    problems += [f"fill {fill_id} is in the ledger {n} times" for fill_id, n in ours.items() if n > 1]
    problems += [
        f"phantom fill {fill_id}: in the ledger, unknown to the venue"
        for fill_id in ours
        if fill_id not in theirs
    ]
    for fill in ledger.fills:
        venue_fill = theirs.get(fill.fill_id)
        if (
            fill.venue == venue
            and venue_fill is not None
            and (fill.client_order_id, fill.quantity, fill.price)
            != (venue_fill.client_order_id, venue_fill.quantity, venue_fill.price)
        ):
            problems.append(f"fill {fill.fill_id} differs from the venue's: {fill} vs {venue_fill}")
    return problems


def no_duplicate_order(ledger: Ledger, truth: VenueTruth, submits: Counter[ClientOrderId]) -> list[str]:
    problems = [
        f"order {client_order_id} was submitted to the venue {n} times"
        for client_order_id, n in submits.items()
        if n > 1
    ]
    at_venue = set(submits) | set(truth.statuses) | {fill.client_order_id for fill in truth.fills}
    sent_by_us = {cid for cid, order in ledger.orders.items() if order.strategy != EXTERNAL}
    problems += [
        f"order {client_order_id} is at the venue but the engine never created it"
        for client_order_id in sorted(at_venue - sent_by_us)
    ]
    # Nobody else trades in these runs: an adopted order is one the engine sent and then forgot.
    problems += [
        f"order {cid} was adopted: it reached the venue without being in the journal"
        for cid, order in ledger.orders.items()
        if order.strategy == EXTERNAL
    ]
    return problems


def every_order_settled(ledger: Ledger, truth: VenueTruth) -> list[str]:
    problems = []
    for client_order_id, order in ledger.orders.items():
        report = truth.statuses.get(client_order_id)
        if order.status in IN_FLIGHT:
            at_venue = "unknown to the venue" if report is None else f"the venue says {report.status}"
            problems.append(f"order {client_order_id} is still {order.status} after healing ({at_venue})")
        elif report is None:
            if order.status not in NEVER_SENT:
                problems.append(f"order {client_order_id} is {order.status} but unknown to the venue")
        elif order.status.value != report.status.value or order.filled_quantity != report.filled_quantity:
            problems.append(
                f"order {client_order_id} is {order.status} with {order.filled_quantity} filled; "
                f"the venue says {report.status} with {report.filled_quantity} filled"
            )
        elif order.quantity != report.quantity or order.limit_price != report.limit_price:
            problems.append(
                f"order {client_order_id} is for {order.quantity} at {order.limit_price}; "
                f"the venue has {report.quantity} at {report.limit_price}"
            )
    return problems


def positions_match(ledger: Ledger, truth: VenueTruth) -> list[str]:
    ours = {(p.account, p.instrument): p.quantity for p in ledger.portfolio.account_positions() if p.quantity}
    return [
        f"position {account} {instrument}: ours {ours.get((account, instrument), 0)}, "
        f"venue {truth.positions.get((account, instrument), 0)}"
        for account, instrument in sorted(set(ours) | set(truth.positions))
        if ours.get((account, instrument)) != truth.positions.get((account, instrument))
    ]
