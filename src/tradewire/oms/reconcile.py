"""Reconciliation: bring our state to the venue's truth after a start, a reconnect, or on a timer.

Order of work, per venue:
1. Fill reports since the oldest open order (or the last fill) are applied first; fills are
   deduplicated by (venue, fill ID), so a second pass changes nothing.
2. Every order we think is open is looked up by client order ID. At start-up, when nothing can be
   in flight, one the venue has never seen that was still pending-new or submitted never left this
   process (the engine died before sending it): it is marked rejected, never resent. While running,
   such an order may simply be on its way, so it is left to the in-flight check.
3. Open orders at the venue that the journal does not know are reported for a person (adoption and
   cancellation policies come with the resilience work).
4. Positions are compared; differences are reported.
Events derived here carry `inferred=True`.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal

import msgspec

from tradewire.domain.enums import OPEN_STATUSES, OrderStatus
from tradewire.domain.events import OrderRejected
from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId, VenueId
from tradewire.oms.manager import OrderManager

log = logging.getLogger(__name__)

LOOKBACK = timedelta(minutes=1)
"""Margin before the oldest open order when asking for fills: venue clocks and ours differ."""


class PositionDifference(msgspec.Struct, frozen=True, kw_only=True):
    account: AccountId
    instrument: InstrumentId
    ours: Decimal
    venue: Decimal


class ReconciliationReport(msgspec.Struct, frozen=True, kw_only=True):
    venue: VenueId
    started_at: datetime
    finished_at: datetime
    fills_applied: int
    orders_updated: int
    orders_not_found: tuple[ClientOrderId, ...]
    unknown_venue_orders: tuple[ClientOrderId, ...]
    position_differences: tuple[PositionDifference, ...]

    @property
    def clean(self) -> bool:
        return not (self.unknown_venue_orders or self.position_differences)


def _since(manager: OrderManager, venue: VenueId) -> datetime:
    ledger = manager.ledger
    candidates = [o.created_at for o in ledger.open_orders.values() if o.venue == venue]
    last_fills = [f.ts_event for f in ledger.fills[-1:] if f.venue == venue]
    moments = candidates + last_fills
    if not moments:
        moments = [ledger.last_event_at or manager.clock.now()]
    return min(moments) - LOOKBACK


async def reconcile_venue(
    manager: OrderManager, venue_id: VenueId, *, at_startup: bool
) -> ReconciliationReport:
    """Reconcile one venue. `at_startup` means no request of ours can be in flight."""
    venue = manager.venues[venue_id]
    ledger = manager.ledger
    started = manager.clock.now()
    applied_before = ledger.records_applied
    fills = await venue.fills_since(_since(manager, venue_id))
    fills_before = len(ledger.fills)
    for fill in sorted(fills, key=lambda f: f.ts_event):
        manager.on_report(fill, inferred=True)
    fills_applied = len(ledger.fills) - fills_before
    not_found: list[ClientOrderId] = []
    for order in [o for o in ledger.open_orders.values() if o.venue == venue_id]:
        report = await venue.order_status(order.client_order_id)
        if report is not None:
            manager.on_report(report, inferred=True)
        elif order.status in (OrderStatus.PENDING_NEW, OrderStatus.SUBMITTED):
            if not at_startup:
                continue
            manager.record(
                OrderRejected(
                    **manager.stamp(),
                    client_order_id=order.client_order_id,
                    reason="not found at the venue: it never left this engine (not resent)",
                    inferred=True,
                )
            )
            not_found.append(order.client_order_id)
        else:
            log.error(
                "order %s is %s here but unknown at %s",
                order.client_order_id,
                order.status,
                venue_id,
            )
            not_found.append(order.client_order_id)
    unknown = tuple(
        report.client_order_id
        for report in await venue.open_orders()
        if report.client_order_id not in ledger.orders
    )
    for client_order_id in unknown:
        log.error("order %s is open at %s but not in the journal", client_order_id, venue_id)
    differences = []
    venue_positions = {(p.account, p.instrument): p.quantity for p in await venue.positions()}
    ours = {
        (p.account, p.instrument): p.quantity
        for p in ledger.portfolio.account_positions()
        if manager.router.accounts[p.account].venue == venue_id
    }
    for key in sorted(set(venue_positions) | set(ours)):
        theirs, mine = venue_positions.get(key, Decimal(0)), ours.get(key, Decimal(0))
        if theirs != mine:
            differences.append(PositionDifference(account=key[0], instrument=key[1], ours=mine, venue=theirs))
            log.error("position %s %s: ours %s, venue %s", key[0], key[1], mine, theirs)
    await manager.journal.flush()
    still_open = sum(1 for o in ledger.open_orders.values() if o.status in OPEN_STATUSES)
    log.info(
        "reconciled %s: %d fills applied, %d records, %d open orders, %d not found, %d unknown",
        venue_id,
        fills_applied,
        ledger.records_applied - applied_before,
        still_open,
        len(not_found),
        len(unknown),
    )
    return ReconciliationReport(
        venue=venue_id,
        started_at=started,
        finished_at=manager.clock.now(),
        fills_applied=fills_applied,
        orders_updated=ledger.records_applied - applied_before - fills_applied,
        orders_not_found=tuple(not_found),
        unknown_venue_orders=unknown,
        position_differences=tuple(differences),
    )
