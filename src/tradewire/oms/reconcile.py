"""Reconciliation: bring our state to the venue's truth after a start, a reconnect, or on a timer.

Order of work, per venue:
1. Fill reports since the oldest open order (or the last fill) are applied first; fills are
   deduplicated by (venue, fill ID), so a second pass changes nothing.
2. Every order we think is open is looked up by client order ID. At start-up, when nothing can be
   in flight, one the venue has never seen that was still pending-new or submitted never left this
   process (the engine died before sending it): it is marked rejected, never resent. While running,
   such an order may simply be on its way, so it is left to the in-flight check. Orders are
   listed before the fills are applied, so one a fill completes still gets its amend settled
   (as does a filled order whose amend got no answer).
   At start-up, a cancel or amend that the venue's live order does not reflect never reached it
   (nothing can be in flight) and is settled as refused, not resent; the same for an order that
   was never acknowledged and had a cancel on its heels.
3. Open orders at the venue that the journal does not know are, by policy, adopted (recorded as
   orders of the strategy `external`, so risk and positions see them; done before fills are
   applied so their fills attach), cancelled, or only alerted. Adopting records what the venue
   already has; it sends nothing.
4. Positions are compared. A difference beyond the tolerance halts that account's trading (the
   kill switch, latched) and is alerted; nothing is ever flattened on its own.
Events derived here carry `inferred=True`.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

import msgspec

from tradewire.domain.enums import OPEN_STATUSES, OrderStatus, TimeInForce, TradingState
from tradewire.domain.events import OrderCreated, OrderRejected, OrderSpec
from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId, StrategyId, VenueId
from tradewire.domain.limits import Scope, ScopeKind
from tradewire.domain.orders import Order
from tradewire.domain.reports import OrderStatusReport
from tradewire.oms.controls import TradingControls
from tradewire.oms.manager import OrderManager
from tradewire.oms.reports import events_for_unanswered_request
from tradewire.venues.port import OrderRef

log = logging.getLogger(__name__)

LOOKBACK = timedelta(minutes=1)
"""Margin before the oldest open order when asking for fills: venue clocks and ours differ."""


class PositionDifference(msgspec.Struct, frozen=True, kw_only=True):
    account: AccountId
    instrument: InstrumentId
    ours: Decimal
    venue: Decimal


class ReconcilePolicy(msgspec.Struct, frozen=True, kw_only=True):
    unknown_orders: Literal["adopt", "cancel", "alert"] = "adopt"
    position_tolerance: Decimal = Decimal(0)
    """A position difference larger than this (in quantity) halts the account."""


EXTERNAL = StrategyId("external")


class ReconciliationReport(msgspec.Struct, frozen=True, kw_only=True):
    venue: VenueId
    started_at: datetime
    finished_at: datetime
    fills_applied: int
    orders_updated: int
    orders_not_found: tuple[ClientOrderId, ...]
    unknown_venue_orders: tuple[ClientOrderId, ...]
    position_differences: tuple[PositionDifference, ...]
    adopted_orders: tuple[ClientOrderId, ...] = ()
    canceled_orders: tuple[ClientOrderId, ...] = ()
    halted_accounts: tuple[AccountId, ...] = ()
    stale_venue_orders: tuple[ClientOrderId, ...] = ()
    """Open at the venue though the journal has them finished (a submit given up as never arrived
    that arrived after all): cancelled at the venue, since nobody here expects them to work."""

    @property
    def clean(self) -> bool:
        return not (self.unknown_venue_orders or self.position_differences or self.stale_venue_orders)


def _since(manager: OrderManager, venue: VenueId) -> datetime:
    ledger = manager.ledger
    candidates = [o.created_at for o in ledger.open_orders.values() if o.venue == venue]
    last_fills = [f.ts_event for f in ledger.fills[-1:] if f.venue == venue]
    moments = candidates + last_fills
    if not moments:
        moments = [ledger.last_event_at or manager.clock.now()]
    return min(moments) - LOOKBACK


async def reconcile_venue(
    manager: OrderManager, venue_id: VenueId, *, at_startup: bool, policy: ReconcilePolicy | None = None
) -> ReconciliationReport:
    """Reconcile one venue. `at_startup` means no request of ours can be in flight."""
    policy = policy or ReconcilePolicy()
    venue = manager.venues[venue_id]
    ledger = manager.ledger
    started = manager.clock.now()
    applied_before = ledger.records_applied
    since = _since(manager, venue_id)
    open_at_venue = await venue.open_orders()
    unknown_reports = [r for r in open_at_venue if r.client_order_id not in ledger.orders]
    unknown = tuple(r.client_order_id for r in unknown_reports)
    adopted, canceled = await _handle_unknown(manager, venue_id, unknown_reports, policy)
    stale = await _cancel_stale(manager, venue_id, open_at_venue)
    # A held order waits here for its session to open (docs/sessions.md): the venue has never seen it.
    # Taken before the fills: an order a fill completes may still wait for its amend's answer.
    held = ledger.held
    asked = [o for o in ledger.open_orders.values() if o.venue == venue_id and o.client_order_id not in held]
    asked += _filled_with_amend_pending(ledger.orders.values(), venue_id)
    fills = await venue.fills_since(since)
    fills_before = len(ledger.fills)
    for fill in sorted(fills, key=lambda f: f.ts_event):
        manager.on_report(fill, inferred=True)
    fills_applied = len(ledger.fills) - fills_before
    not_found: list[ClientOrderId] = []
    for order in asked:
        report = await venue.order_status(order.client_order_id)
        if report is not None:
            manager.on_report(report, inferred=True)
            if at_startup:
                _settle_unanswered(manager, order, report)
        elif order.status not in OPEN_STATUSES:
            continue  # a fill above completed it
        elif _never_reached_venue(order):
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
    halted = await _halt_breaks(manager, differences, policy)
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
        adopted_orders=adopted,
        canceled_orders=canceled,
        halted_accounts=halted,
        stale_venue_orders=stale,
    )


def _filled_with_amend_pending(orders: Iterable[Order], venue_id: VenueId) -> list[Order]:
    """Filled orders whose amend got no answer (it was lost): the venue's status says which
    quantity and prices it filled at, and settles the amend."""
    return [
        o
        for o in orders
        if o.pending_quantity is not None and o.status is OrderStatus.FILLED and o.venue == venue_id
    ]


def _never_reached_venue(order: Order) -> bool:
    """Sent (or not even that) and never acknowledged, possibly with a cancel on its heels."""
    unconfirmed = (OrderStatus.PENDING_NEW, OrderStatus.SUBMITTED)
    return order.status in unconfirmed or (
        order.status is OrderStatus.PENDING_CANCEL and order.previous_status in unconfirmed
    )


def _settle_unanswered(manager: OrderManager, order: Order, report: OrderStatusReport) -> None:
    """At start-up a cancel or amend the venue's live order does not reflect never reached it.
    Twice at most: a cancel sent while an amend was pending is refused first, then the amend."""
    for _ in range(2):
        events = events_for_unanswered_request(order, report, manager.stamp)
        for event in events:
            manager.record(event)
        if not events:
            return


def _ref(report: OrderStatusReport) -> OrderRef:
    return OrderRef(
        client_order_id=report.client_order_id,
        venue_order_id=report.venue_order_id,
        account=report.account,
        instrument=report.instrument,
    )


async def _cancel_stale(
    manager: OrderManager, venue_id: VenueId, open_at_venue: list[OrderStatusReport]
) -> tuple[ClientOrderId, ...]:
    """Cancel venue orders the journal has already finished. Repeating a cancel is harmless: at
    worst the venue answers that the order is gone. Their fills, if any came first, still reach
    the ledger (as illegal transitions, alerted) and the position check below."""
    stale = []
    for report in open_at_venue:
        order = manager.ledger.orders.get(report.client_order_id)
        if order is None or order.status in OPEN_STATUSES:
            continue
        log.error(
            "order %s is %s here but open at %s: cancelling it there",
            order.client_order_id,
            order.status,
            venue_id,
        )
        await manager.venues[venue_id].cancel(_ref(report))
        stale.append(report.client_order_id)
    return tuple(stale)


async def _handle_unknown(
    manager: OrderManager, venue_id: VenueId, reports: list[OrderStatusReport], policy: ReconcilePolicy
) -> tuple[tuple[ClientOrderId, ...], tuple[ClientOrderId, ...]]:
    adopted, canceled = [], []
    for report in reports:
        log.error(
            "order %s is open at %s but not in the journal (%s)",
            report.client_order_id,
            venue_id,
            policy.unknown_orders,
        )
        known_account = report.account in manager.router.accounts
        if policy.unknown_orders == "adopt" and known_account and report.instrument in manager.instruments:
            spec = OrderSpec(
                client_order_id=report.client_order_id,
                account=report.account,
                strategy=EXTERNAL,
                instrument=report.instrument,
                venue=venue_id,
                side=report.side,
                order_type=report.order_type,
                quantity=report.quantity,
                time_in_force=TimeInForce.GTC,
                limit_price=report.limit_price,
                stop_price=report.stop_price,
                route=f"adopted: open at {venue_id} but not in the journal",
            )
            manager.record(OrderCreated(**manager.stamp(), spec=spec))
            manager.on_report(report, inferred=True)
            adopted.append(report.client_order_id)
        elif policy.unknown_orders == "cancel":
            await manager.venues[venue_id].cancel(_ref(report))
            canceled.append(report.client_order_id)
    return tuple(adopted), tuple(canceled)


async def _halt_breaks(
    manager: OrderManager, differences: list[PositionDifference], policy: ReconcilePolicy
) -> tuple[AccountId, ...]:
    """Halt every account whose position differs from the venue's beyond the tolerance."""
    halted: list[AccountId] = []
    controls = TradingControls(manager)
    for difference in differences:
        if (
            abs(difference.venue - difference.ours) <= policy.position_tolerance
            or difference.account in halted
        ):
            continue
        scope = Scope(ScopeKind.ACCOUNT, difference.account)
        if manager.ledger.state_of(scope) is not TradingState.HALTED:
            reason = (
                f"position break {difference.instrument}: ours {difference.ours}, venue {difference.venue} "
                f"(tolerance {policy.position_tolerance})"
            )
            await controls.engage(
                scope, TradingState.HALTED, reason, "auto:reconciliation", cancel_working=False
            )
        halted.append(difference.account)
    return tuple(halted)
