"""Signal intake: signals become orders, one signal or a batch of them handled together.

For each signal: route (its account, an allocation, a default, or the best venue), size each child
against its own account's listing and position, and run the full order through the risk gate, all
without an await, so the checks see every order created before them. Then, for accounts with
`crossing` on, opposite market intents of the batch in one account and instrument are crossed
internally at the venue's mid (one `InternalCross` record holds every leg's fill, so a crash keeps
all or none) and only the net goes to the venue. Everything is journaled and durable before a
single order is sent and before the answers are returned. A repeated idempotency key returns the
first result and sends nothing.

An order refused only because its instrument's session is closed is, when `sessions.outside_session`
is "hold", recorded as created plus `OrderHeld` and left unsent; the session scheduler
(`runtime/sessions.py`) checks it again and sends it at the open (docs/sessions.md).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import msgspec

from tradewire.domain.denials import Denial
from tradewire.domain.enums import LiquiditySide, OrderType, SignalOutcome
from tradewire.domain.events import InternalCross, OrderFilled, OrderHeld, OrderSpec, SignalHandled
from tradewire.domain.ids import (
    AccountId,
    ClientOrderId,
    FillId,
    InstrumentId,
    SignalId,
    StrategyId,
    VenueId,
)
from tradewire.domain.instruments import Instrument
from tradewire.domain.signals import Signal
from tradewire.domain.values import ZERO
from tradewire.execution.crossing import Intent, cross
from tradewire.execution.sizing import NoAction, SizedOrder, check_size, reference_price, size_signal
from tradewire.oms.manager import OrderManager
from tradewire.oms.results import SignalResult
from tradewire.risk.checks import SESSION_CLOSED

ORDER_HELD = "order_held"

INTERNAL = VenueId("internal")


@dataclass(slots=True)
class Leg:
    """One child order of a signal: where it goes and what sizing and risk made of it."""

    account: AccountId
    listing: Instrument
    route: str
    label: str
    sized: SizedOrder
    admitted: OrderSpec | None = None
    """The full order, once it passed the risk gate."""
    crossed: Decimal = Decimal(0)
    internal: OrderSpec | None = None
    """The crossed part: an order filled inside the engine, never sent."""
    plan_order_type: OrderType = OrderType.MARKET


@dataclass(slots=True)
class Plan:
    signal: Signal
    signal_id: SignalId
    legs: list[Leg] = field(default_factory=list)
    refusals: list[tuple[str, Denial | NoAction]] = field(default_factory=list)
    created: list[ClientOrderId] = field(default_factory=list)
    sent: list[OrderSpec] = field(default_factory=list)
    held: list[tuple[str, OrderHeld]] = field(default_factory=list)
    """Orders waiting, unsent, for their session to open (with the leg's label)."""


async def handle_signals(manager: OrderManager, signals: list[Signal]) -> list[SignalResult]:
    """Results in the order of `signals`."""
    results: dict[int, SignalResult] = {}
    repeats: dict[int, int] = {}
    first_with_key: dict[str, int] = {}
    plans: dict[int, Plan] = {}
    for index, signal in enumerate(signals):
        key = signal.idempotency_key
        if key is not None and key in manager.ledger.signals_by_key:
            results[index] = msgspec.structs.replace(manager.ledger.signals_by_key[key], duplicate=True)
        elif key is not None and key in first_with_key:
            repeats[index] = first_with_key[key]
        else:
            if key is not None:
                first_with_key[key] = index
            plans[index] = _plan(manager, signal)  # may raise InvalidInput: nothing recorded yet
    if not plans:
        await manager.journal.flush()
    for plan in plans.values():
        _admit(manager, plan)
    crosses = _cross(manager, list(plans.values()))
    for plan in plans.values():
        _record_orders(manager, plan)
    for (account, instrument), (mid, legs) in crosses.items():
        _record_cross(manager, account, instrument, mid, legs)
    sequence = 0
    for index, plan in plans.items():
        handled = _handled(manager, plan)
        sequence = manager.record(handled)
        results[index] = SignalResult.from_record(handled, duplicate=False)
    if plans:
        await manager.journal.flush(sequence)
    for plan in plans.values():
        for spec in plan.sent:
            await manager.send(spec)
    for index, first in repeats.items():
        results[index] = msgspec.structs.replace(results[first], duplicate=True)
    return [results[index] for index in range(len(signals))]


def _plan(manager: OrderManager, signal: Signal) -> Plan:
    instrument = manager.instrument(signal.instrument)
    strategy = StrategyId(signal.strategy)
    plan = Plan(signal, manager.ids.signal_id())
    children = manager.router.children(
        signal, strategy, instrument, reference_price(signal, manager.quotes.get(instrument.instrument_id))
    )
    if isinstance(children, Denial):
        plan.refusals.append(("", children))
        return plan
    labelled = len(children) > 1 or (signal.account is None and manager.router.fans_out(strategy))
    for account, child, route in children:
        listing = manager.instruments.at(manager.router.accounts[account].venue, instrument.instrument_id)
        held = working = ZERO  # only a target position is sized against what is held and working
        if child.target_position is not None:
            held = manager.ledger.portfolio.strategy_quantity(account, strategy, listing.instrument_id)
            working = manager.ledger.strategy_working(account, strategy, listing.instrument_id)
        sized = size_signal(
            child,
            listing,
            held=held,
            working=working,
            quote=manager.quotes.at(listing.venue, listing.instrument_id),
            policy=manager.off_grid_prices,
        )
        label = f"account {account}: " if labelled else ""
        if isinstance(sized, NoAction | Denial):
            plan.refusals.append((label, sized))
        else:
            plan.legs.append(Leg(account, listing, route, label, sized, plan_order_type=signal.order_type))
    return plan


def _spec(manager: OrderManager, plan: Plan, leg: Leg, quantity: Decimal, route: str) -> OrderSpec:
    sized = leg.sized
    signal = plan.signal
    return OrderSpec(
        client_order_id=manager.ids.client_order_id(),
        account=leg.account,
        strategy=StrategyId(signal.strategy),
        instrument=leg.listing.instrument_id,
        venue=leg.listing.venue,
        side=sized.side,
        order_type=signal.order_type,
        quantity=quantity,
        time_in_force=signal.time_in_force,
        limit_price=sized.limit_price,
        stop_price=sized.stop_price,
        signal_id=plan.signal_id,
        signal_price=signal.signal_price,
        reduce_only=signal.reduce_only,
        route=route,
    )


def _admit(manager: OrderManager, plan: Plan) -> None:
    """Every leg passes the gate at its full size, whether it is later crossed or not."""
    for leg in plan.legs:
        spec = _spec(manager, plan, leg, leg.sized.quantity, leg.route)
        denial = manager.admit(spec, leg.listing, leg.sized.reference_price)
        if denial is None:
            leg.admitted = spec
        elif denial.code == SESSION_CLOSED and _hold(manager, plan, leg, spec, denial):
            continue
        else:
            manager.record_order(spec, denial)
            plan.created.append(spec.client_order_id)
            plan.refusals.append((leg.label, denial))


def _hold(manager: OrderManager, plan: Plan, leg: Leg, spec: OrderSpec, denial: Denial) -> bool:
    """Hold an order refused only for its closed session, when the policy says so. The gate checks
    the session last, so such an order passed every other check; it is created (pending-new, so it
    counts as working for later checks) and held, never sent from here."""
    if not manager.view.sessions.holds:
        return False
    session = manager.view.session_state(leg.listing, manager.clock.now())
    if session.open or session.next_open is None:
        return False  # reopened meanwhile, or no known open to wait for: deny
    manager.record_order(spec, None)
    held = OrderHeld(**manager.stamp(), spec=spec, release_at=session.next_open, reason=denial.reason)
    manager.record(held)
    plan.created.append(spec.client_order_id)
    plan.held.append((leg.label, held))
    return True


Crosses = dict[tuple[AccountId, InstrumentId], tuple[Decimal, list[Leg]]]


def _cross(manager: OrderManager, plans: list[Plan]) -> Crosses:
    """Which admitted legs cross, and at what mid, by account and instrument (where it crosses)."""
    groups: defaultdict[tuple[AccountId, InstrumentId], list[Leg]] = defaultdict(list)
    for plan in plans:
        for leg in plan.legs:
            if leg.admitted is not None and manager.router.accounts[leg.account].crossing:
                groups[(leg.account, leg.listing.instrument_id)].append(leg)
    crosses: Crosses = {}
    for (account, instrument), legs in groups.items():
        mid = manager.quotes.mark(instrument, legs[0].listing.venue)
        if mid is None or len(legs) < 2:
            continue  # no fair price to cross at, or nothing to cross with
        intents = [
            Intent(key=i, side=leg.sized.side, quantity=leg.sized.quantity, order_type=leg.plan_order_type)
            for i, leg in enumerate(legs)
        ]
        splits = cross(intents)
        if any(split.crossed for split in splits):
            for split in splits:
                legs[split.key].crossed = split.crossed
            crosses[(account, instrument)] = (mid, legs)
    return crosses


def _record_orders(manager: OrderManager, plan: Plan) -> None:
    """The orders of the admitted legs: the crossed part (filled inside, never sent) and the rest."""
    for leg in plan.legs:
        spec = leg.admitted
        if spec is None:
            continue
        if not leg.crossed:
            manager.record_order(spec, None)
            plan.created.append(spec.client_order_id)
            plan.sent.append(spec)
            continue
        leg.internal = _spec(manager, plan, leg, leg.crossed, f"internal cross in {leg.account}; {leg.route}")
        manager.record_order(leg.internal, None)
        plan.created.append(leg.internal.client_order_id)
        residual = spec.quantity - leg.crossed
        if not residual:
            continue
        too_small = check_size(leg.listing, residual, leg.sized.reference_price)
        if too_small is not None:
            plan.refusals.append(
                (leg.label, Denial(too_small.code, f"left after crossing: {too_small.reason}"))
            )
            continue
        rest = _spec(manager, plan, leg, residual, leg.route)
        manager.record_order(rest, None)
        plan.created.append(rest.client_order_id)
        plan.sent.append(rest)


def _record_cross(
    manager: OrderManager, account: AccountId, instrument: InstrumentId, mid: Decimal, legs: list[Leg]
) -> None:
    listing = legs[0].listing
    fills = tuple(
        OrderFilled(
            **manager.stamp(),
            client_order_id=leg.internal.client_order_id,
            venue_order_id=None,
            fill_id=FillId(f"X-{leg.internal.client_order_id}"),
            venue=INTERNAL,
            account=account,
            strategy=leg.internal.strategy,
            instrument=instrument,
            side=leg.internal.side,
            quantity=leg.crossed,
            price=mid,
            fee=Decimal(0),
            fee_currency=listing.quote_currency,
            liquidity=LiquiditySide.NONE,
            multiplier=listing.multiplier,
        )
        for leg in legs
        if leg.internal is not None
    )
    manager.record(
        InternalCross(**manager.stamp(), account=account, instrument=instrument, price=mid, fills=fills)
    )


def _handled(manager: OrderManager, plan: Plan) -> SignalHandled:
    reason_code = reason = None
    if plan.sent or plan.held or any(leg.crossed for leg in plan.legs):
        outcome = SignalOutcome.ACCEPTED
    else:
        denied = any(isinstance(refusal, Denial) for _, refusal in plan.refusals)
        outcome = SignalOutcome.DENIED if denied else SignalOutcome.NO_ACTION
    if plan.refusals or plan.held:  # the common case, every order sent, has nothing to explain
        codes = [refusal.code for _, refusal in plan.refusals if isinstance(refusal, Denial)]
        if plan.held:
            codes.append(ORDER_HELD)
        notes = [label + refusal.reason for label, refusal in plan.refusals]
        notes += [f"{label}held until the open: {held.reason}" for label, held in plan.held]
        reason_code = codes[0] if codes else None
        reason = "; ".join(notes) or None
    return SignalHandled(
        **manager.stamp(),
        signal_id=plan.signal_id,
        signal=plan.signal,
        outcome=outcome,
        client_order_ids=tuple(plan.created),
        reason_code=reason_code,
        reason=reason,
    )
