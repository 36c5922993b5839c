"""Trading controls: risk limits changed at run time, and the kill switch.

The kill switch is a trading state per scope (portfolio, account, strategy, venue): ACTIVE,
REDUCING (only orders that reduce a position pass) or HALTED (no new orders; cancels pass). It is
latched: it stays engaged until a person resumes it. Engaging it is recorded before anything else
happens, so every signal handled after it, even one queued before the call returned, meets it.

Flattening moves the scope to REDUCING (if it was ACTIVE or HALTED), cancels its working orders and
sends reduce-only market orders for the net position of every account and instrument in scope,
split among the strategies holding that side, through the same risk gate as any order.
"""

import logging
from decimal import Decimal

import msgspec

from tradewire.domain.enums import (
    CANCELABLE_STATUSES,
    OPEN_STATUSES,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradingState,
)
from tradewire.domain.errors import Conflict
from tradewire.domain.events import OrderCanceled, OrderSpec, RiskLimitsChanged, TradingStateChanged
from tradewire.domain.ids import ClientOrderId, StrategyId
from tradewire.domain.limits import Limits, Scope, ScopeKind, order_scopes
from tradewire.domain.orders import Order
from tradewire.domain.positions import Position
from tradewire.oms.manager import OrderManager
from tradewire.risk.checks import reduces

log = logging.getLogger(__name__)


class FlattenOrder(msgspec.Struct, frozen=True, kw_only=True):
    client_order_id: ClientOrderId
    account: str
    strategy: str
    instrument: str
    side: Side
    quantity: Decimal
    denied: str | None = None


class KillSwitchResult(msgspec.Struct, frozen=True, kw_only=True):
    scope: str
    state: TradingState
    canceled: tuple[ClientOrderId, ...] = ()
    flatten_orders: tuple[FlattenOrder, ...] = ()


def in_scope(scope: Scope, account: str, strategy: str, venue: str) -> bool:
    match scope.kind:
        case ScopeKind.PORTFOLIO:
            return True
        case ScopeKind.ACCOUNT:
            return account == scope.id
        case ScopeKind.STRATEGY:
            return strategy == scope.id
        case ScopeKind.VENUE:
            return venue == scope.id


class TradingControls:
    def __init__(self, manager: OrderManager) -> None:
        self._manager = manager

    async def set_limits(self, scope: Scope, limits: Limits, changed_by: str) -> None:
        """Replace the limits of one scope (journaled with who changed them)."""
        manager = self._manager
        await manager.journal.flush(
            manager.record(
                RiskLimitsChanged(**manager.stamp(), scope=str(scope), limits=limits, changed_by=changed_by)
            )
        )

    def _set_state(self, scope: Scope, state: TradingState, reason: str, changed_by: str) -> int:
        manager = self._manager
        return manager.record(
            TradingStateChanged(
                **manager.stamp(), scope=str(scope), state=state, reason=reason, changed_by=changed_by
            )
        )

    async def engage(
        self,
        scope: Scope,
        state: TradingState,
        reason: str,
        changed_by: str,
        *,
        cancel_working: bool = True,
        flatten: bool = False,
    ) -> KillSwitchResult:
        """Engage the kill switch at `scope`; with `flatten`, also close the scope's positions."""
        if state is TradingState.ACTIVE:
            raise Conflict("engaging the kill switch needs reducing or halted; use resume to re-arm")
        if flatten:
            state = TradingState.REDUCING
        await self._manager.journal.flush(self._set_state(scope, state, reason, changed_by))
        log.warning("kill switch: %s is %s (%s, by %s)", scope, state, reason, changed_by)
        canceled = await self.cancel_all(scope, changed_by) if cancel_working or flatten else ()
        flattened = await self.flatten(scope, changed_by) if flatten else ()
        return KillSwitchResult(scope=str(scope), state=state, canceled=canceled, flatten_orders=flattened)

    async def resume(self, scope: Scope, reason: str, changed_by: str) -> None:
        """Re-arm: only a person does this; nothing resumes by itself."""
        await self._manager.journal.flush(self._set_state(scope, TradingState.ACTIVE, reason, changed_by))
        log.warning("kill switch: %s re-armed (%s, by %s)", scope, reason, changed_by)

    def _orders_in(self, scope: Scope) -> list[Order]:
        return [
            order
            for order in self._manager.ledger.open_orders.values()
            if in_scope(scope, order.account, order.strategy, order.venue)
        ]

    async def cancel_all(self, scope: Scope, requested_by: str) -> tuple[ClientOrderId, ...]:
        """Cancel every working order in scope; one not yet sent is canceled here and never sent."""
        manager = self._manager
        canceled = []
        for order in self._orders_in(scope):
            if order.status is OrderStatus.PENDING_NEW:
                manager.record(
                    OrderCanceled(
                        **manager.stamp(),
                        client_order_id=order.client_order_id,
                        reason=f"not sent: canceled by {requested_by} with the kill switch",
                    )
                )
                canceled.append(order.client_order_id)
            elif order.status in CANCELABLE_STATUSES:
                await self._manager.cancel(order.client_order_id, requested_by)
                canceled.append(order.client_order_id)
        return tuple(canceled)

    def _positions_in(self, scope: Scope) -> list[Position]:
        manager = self._manager
        return [
            p
            for p in manager.ledger.portfolio.by_strategy.values()
            if p.quantity
            and in_scope(scope, p.account, p.strategy or "", manager.router.accounts[p.account].venue)
        ]

    async def flatten(self, scope: Scope, requested_by: str) -> tuple[FlattenOrder, ...]:
        """Market orders for the net position of each account and instrument in scope, each
        reduce-only when it reduces its account's position (which the venue holds and checks): a
        strategy's flatten in an account that other strategies offset changes the account's
        position, so it goes as a plain order under the account's limits."""
        manager = self._manager
        by_account: dict[tuple[str, str], list[Position]] = {}
        for position in self._positions_in(scope):
            by_account.setdefault((position.account, position.instrument), []).append(position)
        sent = []
        for (account, instrument), positions in sorted(by_account.items()):
            net = manager.ledger.portfolio.account_quantity(positions[0].account, positions[0].instrument)
            if scope.kind is ScopeKind.STRATEGY:
                net = sum((p.quantity for p in positions), Decimal(0))  # only this strategy's share
            remaining = abs(net)
            side = Side.SELL if net > 0 else Side.BUY
            holders = sorted(
                (p for p in positions if (p.quantity > 0) == (net > 0)),
                key=lambda p: (-abs(p.quantity), p.strategy),
            )
            for holder in holders:
                quantity = min(abs(holder.quantity), remaining)
                if quantity <= 0:
                    break
                remaining -= quantity
                for chunk in self._chunks(holder, side, quantity):
                    sent.append(await self._flatten_one(holder, side, chunk, requested_by))
            log.warning("flatten %s %s: net %s by %s", account, instrument, net, requested_by)
        return tuple(sent)

    def _chunks(self, holder: Position, side: Side, quantity: Decimal) -> list[Decimal]:
        """Split a flatten into orders each within every order-size limit of its scopes (a
        fat-finger limit still applies to each order; it must not stop a position being closed)."""
        manager = self._manager
        instrument = manager.instruments.at(manager.router.accounts[holder.account].venue, holder.instrument)
        quote = manager.quotes.at(instrument.venue, holder.instrument)
        price = quote.touch(side) if quote is not None else None
        caps = []
        for scope in order_scopes(holder.account, holder.strategy, instrument.venue):
            limits = manager.ledger.limits.get(scope)
            if limits is None:
                continue
            if limits.max_order_quantity is not None:
                caps.append(limits.max_order_quantity)
            if limits.max_order_notional is not None and price:
                caps.append(limits.max_order_notional / (price * instrument.multiplier))
        cap = instrument.round_quantity(min(caps)) if caps else quantity
        if cap < instrument.min_quantity:
            return [quantity]  # no order can fit; send it whole and let the gate say why
        chunks = []
        while quantity > 0:
            chunks.append(min(cap, quantity))
            quantity -= chunks[-1]
        return chunks

    async def _flatten_one(
        self, holder: Position, side: Side, quantity: Decimal, requested_by: str
    ) -> FlattenOrder:
        manager = self._manager
        instrument = manager.instruments.at(manager.router.accounts[holder.account].venue, holder.instrument)
        quote = manager.quotes.at(instrument.venue, holder.instrument)
        ledger = manager.ledger
        reduce_only = reduces(
            side,
            quantity,
            ledger.portfolio.account_quantity(holder.account, holder.instrument),
            ledger.working.working(side, holder.instrument, holder.account),
        )
        spec = OrderSpec(
            client_order_id=manager.ids.client_order_id(),
            account=holder.account,
            strategy=holder.strategy or StrategyId("flatten"),
            instrument=holder.instrument,
            venue=instrument.venue,
            side=side,
            order_type=OrderType.MARKET,
            quantity=quantity,
            time_in_force=TimeInForce.GTC,
            reduce_only=reduce_only,
            route=f"flatten by {requested_by}; {holder.instrument} trades at {instrument.venue}",
        )
        denial = await manager.submit_order(spec, quote.touch(side) if quote else None)
        return FlattenOrder(
            client_order_id=spec.client_order_id,
            account=spec.account,
            strategy=spec.strategy,
            instrument=spec.instrument,
            side=side,
            quantity=quantity,
            denied=denial.reason if denial else None,
        )

    def is_flat(self, scope: Scope) -> bool:
        """No position and no open order left in scope (what "flat is confirmed" means)."""
        return not self._positions_in(scope) and not any(
            o.status in OPEN_STATUSES for o in self._orders_in(scope)
        )
