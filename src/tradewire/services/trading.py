"""TradingService: what a trader can do and see. The API, CLI and Python front ends all call this."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from tradewire.domain.denials import Denial
from tradewire.domain.enums import OPEN_STATUSES, OrderStatus, TradingState
from tradewire.domain.errors import FieldProblem, InvalidInput, NotFound
from tradewire.domain.health import VenueHealth, VenueHealthBoard, VenueStatus
from tradewire.domain.ids import AccountId, ClientOrderId, VenueId
from tradewire.domain.limits import PORTFOLIO, Limits, Scope, ScopeKind
from tradewire.domain.signals import Signal, parse_signal
from tradewire.domain.values import ZERO
from tradewire.execution.routing import AccountConfig
from tradewire.oms.controls import KillSwitchResult, TradingControls
from tradewire.oms.intake import handle_signals
from tradewire.oms.manager import OrderManager
from tradewire.oms.reconcile import ReconcilePolicy, ReconciliationReport, reconcile_venue
from tradewire.oms.results import SignalResult
from tradewire.services.views import (
    AccountView,
    AmendResult,
    FillView,
    HealthView,
    OrderView,
    PositionView,
    TradingStateView,
    VenueView,
)

MAX_PAGE = 10_000
MAX_BATCH = 100
RECONCILIATIONS_KEPT = 100


class TradingService:
    def __init__(
        self,
        manager: OrderManager,
        accounts: Mapping[AccountId, AccountConfig],
        started_at: datetime,
        reconcile_policy: ReconcilePolicy | None = None,
        *,
        venue_health: VenueHealthBoard | None = None,
    ) -> None:
        self.reconcile_policy = reconcile_policy or ReconcilePolicy()
        self._venue_health = venue_health or VenueHealthBoard()
        self._manager = manager
        self._controls = TradingControls(manager)
        self._accounts = dict(accounts)
        self.started_at = started_at
        self.reconciliations: list[ReconciliationReport] = []

    async def submit_signal(self, payload: bytes | str | dict[str, Any] | Signal) -> SignalResult:
        """Validate (raising `InvalidInput` that names each bad field) and handle one signal."""
        [result] = await handle_signals(self._manager, [parse_signal(payload)])
        return result

    async def submit_signals(self, payloads: list[Any]) -> list[SignalResult]:
        """Several signals handled together: validated first (an error names the signal by its
        index and changes nothing), then, in accounts with `crossing`, opposite market intents are
        crossed inside the engine and only the net is sent."""
        if not 1 <= len(payloads) <= MAX_BATCH:
            raise InvalidInput(
                [FieldProblem("signals", f"{len(payloads)} signals", f"1 to {MAX_BATCH} signals")]
            )
        signals = []
        for index, payload in enumerate(payloads):
            try:
                signals.append(parse_signal(payload))
            except InvalidInput as error:
                raise InvalidInput(
                    [FieldProblem(f"[{index}].{p.field}", p.problem, p.accepted) for p in error.problems]
                ) from error
        return await handle_signals(self._manager, signals)

    async def cancel_order(self, client_order_id: str, requested_by: str) -> OrderView:
        order = await self._manager.cancel(ClientOrderId(client_order_id), requested_by)
        return OrderView.of(order)

    async def modify_order(
        self,
        client_order_id: str,
        requested_by: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> AmendResult:
        """Amend a working order's quantity or prices; the amended order passes the risk gate."""
        given = {"quantity": quantity, "limit_price": limit_price, "stop_price": stop_price}
        problems = [
            FieldProblem(name, f"{value} is not a positive finite number", "a positive decimal number")
            for name, value in given.items()
            if value is not None and (not value.is_finite() or value <= 0)
        ]
        if all(value is None for value in given.values()):
            problems.append(
                FieldProblem(
                    "quantity", "an amend needs at least one change", "quantity, limit_price or stop_price"
                )
            )
        if problems:
            raise InvalidInput(problems)
        outcome = await self._manager.modify(
            ClientOrderId(client_order_id),
            requested_by,
            quantity=quantity,
            limit_price=limit_price,
            stop_price=stop_price,
        )
        order = self.order(client_order_id)
        if isinstance(outcome, Denial):
            return AmendResult(order=order, denied=True, reason_code=outcome.code, reason=outcome.reason)
        return AmendResult(order=order, denied=False)

    def order(self, client_order_id: str) -> OrderView:
        order = self._manager.ledger.orders.get(ClientOrderId(client_order_id))
        if order is None:
            raise NotFound("order", client_order_id)
        return OrderView.of(order)

    def orders(
        self,
        status: str | None = None,
        strategy: str | None = None,
        account: str | None = None,
        instrument: str | None = None,
        limit: int = 500,
    ) -> list[OrderView]:
        """Newest first."""
        statuses = _statuses(status)
        picked = []
        for order in reversed(self._manager.ledger.orders.values()):
            if statuses is not None and order.status not in statuses:
                continue
            if strategy is not None and order.strategy != strategy:
                continue
            if account is not None and order.account != account:
                continue
            if instrument is not None and order.instrument != instrument:
                continue
            picked.append(OrderView.of(order))
            if len(picked) >= min(limit, MAX_PAGE):
                break
        return picked

    def positions(
        self, account: str | None = None, by_strategy: bool = False, include_flat: bool = False
    ) -> list[PositionView]:
        portfolio = self._manager.ledger.portfolio
        source = portfolio.strategy_positions() if by_strategy else portfolio.account_positions()
        quotes = self._manager.quotes
        return [
            PositionView.of(p, quotes.mark(p.instrument, self._venue_of(p.account)))
            for p in source
            if (account is None or p.account == account)
            and (include_flat or p.quantity != 0 or p.realized_pnl != 0)
        ]

    def fills(
        self,
        account: str | None = None,
        strategy: str | None = None,
        client_order_id: str | None = None,
        limit: int = 500,
    ) -> list[FillView]:
        """Newest first."""
        picked = []
        for fill in reversed(self._manager.ledger.fills):
            if account is not None and fill.account != account:
                continue
            if strategy is not None and fill.strategy != strategy:
                continue
            if client_order_id is not None and fill.client_order_id != client_order_id:
                continue
            picked.append(FillView.of(fill))
            if len(picked) >= min(limit, MAX_PAGE):
                break
        return picked

    def accounts(self) -> list[AccountView]:
        ledger = self._manager.ledger
        views = []
        for account_id, config in sorted(self._accounts.items()):
            positions = list(ledger.portfolio.account_positions(config.account_id))
            unrealized: Decimal | None = ZERO
            for position in positions:
                value = position.unrealized_pnl(
                    self._manager.quotes.mark(position.instrument, self._venue_of(position.account))
                )
                unrealized = None if value is None or unrealized is None else unrealized + value
            venue = self._manager.venues.get(config.venue)
            views.append(
                AccountView(
                    account=account_id,
                    venue=config.venue,
                    currency=config.currency,
                    venue_connected=venue.connected if venue is not None else False,
                    open_orders=sum(1 for o in ledger.open_orders.values() if o.account == account_id),
                    realized_pnl=sum((p.realized_pnl for p in positions), ZERO),
                    unrealized_pnl=unrealized,
                    fees=sum((p.fees for p in positions), ZERO),
                )
            )
        return views

    # --- risk limits and the kill switch ---

    def limits(self) -> dict[str, Limits]:
        """Every scope's limits, as in force now."""
        return dict(self._manager.ledger.limits.scopes)

    async def set_limits(self, scope: str, limits: dict[str, Any] | Limits, changed_by: str) -> Limits:
        """Replace one scope's limits (`InvalidInput` names a bad field); journaled with who did it."""
        parsed_scope = self._known_scope(scope)
        parsed = limits if isinstance(limits, Limits) else parse_limits(limits)
        await self._controls.set_limits(parsed_scope, parsed, changed_by)
        return parsed

    def trading_states(self) -> list[TradingStateView]:
        """Every scope whose state was ever set, and always the portfolio."""
        states = {str(PORTFOLIO): TradingState.ACTIVE, **self._manager.ledger.trading_states}
        return [
            TradingStateView(scope=scope, state=state, flat=self._controls.is_flat(Scope.parse(scope)))
            for scope, state in sorted(states.items())
        ]

    async def engage_kill_switch(
        self,
        scope: str,
        changed_by: str,
        reason: str,
        *,
        state: TradingState = TradingState.HALTED,
        flatten: bool = False,
        cancel_working: bool = True,
    ) -> KillSwitchResult:
        _require_reason(reason)
        return await self._controls.engage(
            self._known_scope(scope),
            state,
            reason,
            changed_by,
            cancel_working=cancel_working,
            flatten=flatten,
        )

    async def resume(self, scope: str, changed_by: str, reason: str) -> None:
        _require_reason(reason)
        await self._controls.resume(self._known_scope(scope), reason, changed_by)

    def _venue_of(self, account: str) -> VenueId | None:
        config = self._accounts.get(AccountId(account))
        return config.venue if config is not None else None

    def _known_scope(self, text: str) -> Scope:
        scope = Scope.parse(text)
        known: dict[ScopeKind, set[str]] = {
            ScopeKind.ACCOUNT: {str(a) for a in self._accounts},
            ScopeKind.VENUE: {str(v) for v in self._manager.venues},
        }
        names = known.get(scope.kind)
        if names is not None and scope.id not in names:
            raise InvalidInput(
                [
                    FieldProblem(
                        "scope",
                        f"{scope} names no configured {scope.kind}",
                        "one of: " + ", ".join(sorted(names)),
                    )
                ]
            )
        return scope

    def venues(self) -> list[VenueView]:
        """Every venue's connection and health, by name."""
        views = []
        for name, venue in sorted(self._manager.venues.items()):
            status = self._venue_health.get(name) or _unsupervised(name, venue.connected, self.started_at)
            views.append(
                VenueView(
                    venue=name,
                    health=status.health,
                    accepts_orders=status.accepts_orders,
                    connected=venue.connected,
                    connection=status.connection,
                    on_backup=status.on_backup,
                    reconnect_attempt=status.attempt,
                    since=status.since,
                    reason=status.reason,
                    last_reconciliation=status.last_reconciliation,
                    last_reconciled_at=status.last_reconciled_at,
                )
            )
        return views

    def health(self) -> HealthView:
        venues = {str(name): venue.connected for name, venue in self._manager.venues.items()}
        health = {view.venue: view.health for view in self.venues()}
        journal = self._manager.journal
        return HealthView(
            status="ok"
            if all(venues.values()) and all(h is VenueHealth.CONNECTED for h in health.values())
            else "degraded",
            venue_health=health,
            trading_state=self._manager.ledger.state_of(PORTFOLIO).value,
            venues=venues,
            journal_sequence=journal.last_sequence,
            journal_durable_sequence=journal.durable_sequence,
            started_at=self.started_at,
        )

    async def reconcile(self) -> list[ReconciliationReport]:
        """Reconcile every connected venue now (as the periodic check does); newest reports kept."""
        reports = []
        for venue_id, venue in self._manager.venues.items():
            if venue.connected:
                reports.append(
                    await reconcile_venue(
                        self._manager, venue_id, at_startup=False, policy=self.reconcile_policy
                    )
                )
        self.record_reconciliations(reports)
        return reports

    def record_reconciliations(self, reports: list[ReconciliationReport]) -> None:
        self.reconciliations.extend(reports)
        del self.reconciliations[:-RECONCILIATIONS_KEPT]

    def digest(self) -> str:
        return self._manager.ledger.digest()


def _unsupervised(venue: VenueId, connected: bool, since: datetime) -> VenueStatus:
    """A venue no connectivity supervisor watches (a service built without one): its link alone."""
    return VenueStatus(
        venue=venue,
        health=VenueHealth.CONNECTED if connected else VenueHealth.DOWN,
        connection="primary",
        since=since,
        reason="connected" if connected else "not connected",
    )


def _statuses(status: str | None) -> frozenset[OrderStatus] | None:
    if status is None:
        return None
    chosen: set[OrderStatus] = set()
    for name in status.split(","):
        if name.strip() == "open":
            chosen |= OPEN_STATUSES
            continue
        try:
            chosen.add(OrderStatus(name.strip()))
        except ValueError:
            accepted = "open, or a comma-separated list of: " + ", ".join(OrderStatus)
            raise InvalidInput(
                [FieldProblem("status", f"{name.strip()!r} is not an order status", accepted)]
            ) from None
    return frozenset(chosen)


def parse_limits(fields: dict[str, Any]) -> Limits:
    """Limits from a dict (API body, config), every problem named by its field."""
    try:
        return msgspec.convert(fields, Limits)
    except msgspec.ValidationError as error:
        message = str(error)
        field = message.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in message else "limits"
        unknown = "unknown field `" in message
        if unknown:
            field = message.split("`")[1]
        accepted = "fields: " + ", ".join(Limits.__struct_fields__)
        raise InvalidInput([FieldProblem(field, message.split(" - at ", maxsplit=1)[0], accepted)]) from error


def _require_reason(reason: str) -> None:
    if not reason.strip():
        raise InvalidInput([FieldProblem("reason", "is empty", "why, in 1-500 characters (it is journaled)")])
