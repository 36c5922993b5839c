"""Pre-trade checks: each a pure function of an order, one scope's limits and the risk view.

A check returns a `Denial` whose reason shows the numbers that caused it and the scope whose limit
it broke ("position 120000 + working buy 0 + order 50000 > limit 150000 EURUSD, account:acc-1"),
or None. The gate runs every check at every scope on every order that would reach a venue.
"""

from datetime import UTC
from decimal import Decimal

from tradewire.domain.denials import Denial
from tradewire.domain.enums import OrderType, Side, TradingState
from tradewire.domain.limits import Limits, Scope, ScopeKind
from tradewire.domain.values import normalize
from tradewire.risk.view import OrderFacts, RiskView

BPS = Decimal(10_000)
PRICED_TYPES = frozenset({OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT})


def _fmt(value: Decimal) -> str:
    return str(normalize(value))


def reduces(side: Side, quantity: Decimal, position: Decimal, working_same_side: Decimal) -> bool:
    """True when an order of `quantity` on `side`, even filled with every working order on its
    side, only shrinks `position` toward zero (it can never flip or grow it)."""
    if side is Side.BUY:
        return position < 0 and working_same_side + quantity <= -position
    return position > 0 and working_same_side + quantity <= position


def reduces_position(facts: OrderFacts, position: Decimal, working_same_side: Decimal) -> bool:
    return reduces(facts.spec.side, facts.spec.quantity, position, working_same_side)


def _reduces_at(facts: OrderFacts, scope: Scope, view: RiskView) -> bool:
    instrument = facts.spec.instrument
    return reduces_position(
        facts, view.position(scope, instrument), view.working(scope, instrument, facts.spec.side)
    )


def check_trading_state(facts: OrderFacts, scope: Scope, view: RiskView) -> Denial | None:
    """HALTED stops everything new. REDUCING lets through only an order that reduces a position held
    where the order executes: at a strategy scope, that strategy's own position in the order's
    account, whatever other strategies hold there (the account's own state and limits judge the
    account); at any other scope, the position of the order's account (positions of different
    accounts never net)."""
    state = view.state(scope)
    if state is TradingState.HALTED:
        return Denial("trading_halted", f"trading is halted by the kill switch at {scope}; only cancels pass")
    if state is not TradingState.REDUCING:
        return None
    spec = facts.spec
    if scope.kind is ScopeKind.STRATEGY and spec.strategy is not None:
        position = view.strategy_position(spec.account, spec.strategy, spec.instrument)
        working = view.strategy_working(spec.account, spec.strategy, spec.instrument, spec.side)
        judged = f"{scope} in account {spec.account}"
    else:
        account = facts.scopes()[1]
        position = view.position(account, spec.instrument)
        working = view.working(account, spec.instrument, spec.side)
        judged = str(account)
    if reduces_position(facts, position, working):
        return None
    return Denial(
        "trading_reducing",
        f"{scope} is reducing only, and this {spec.side} of {_fmt(spec.quantity)} {spec.instrument} "
        f"would not reduce the position {_fmt(position)} of {judged}",
    )


def check_reduce_only(facts: OrderFacts, scope: Scope, view: RiskView) -> Denial | None:
    if facts.spec.reduce_only and not _reduces_at(facts, scope, view):
        side = facts.spec.side
        return Denial(
            "reduce_only_would_increase",
            f"reduce-only {side} of {_fmt(facts.spec.quantity)} {facts.spec.instrument} would not reduce "
            f"position {_fmt(view.position(scope, facts.spec.instrument))} "
            f"(working {side} {_fmt(view.working(scope, facts.spec.instrument, side))}), {scope}",
        )
    return None


def check_order_size(facts: OrderFacts, limits: Limits, scope: Scope) -> Denial | None:
    spec = facts.spec
    if limits.max_order_quantity is not None and spec.quantity > limits.max_order_quantity:
        return Denial(
            "order_quantity_limit",
            f"order quantity {_fmt(spec.quantity)} > limit {_fmt(limits.max_order_quantity)} "
            f"{spec.instrument}, {scope}",
        )
    notional = facts.notional
    if limits.max_order_notional is not None and notional is None:
        return _unpriced(facts, scope, "max_order_notional")
    if (
        limits.max_order_notional is not None
        and notional is not None
        and notional > limits.max_order_notional
    ):
        return Denial(
            "order_notional_limit",
            f"order notional {_fmt(notional)} > limit {_fmt(limits.max_order_notional)} "
            f"{facts.instrument.quote_currency}, {spec.instrument}, {scope}",
        )
    return None


def check_position(facts: OrderFacts, limits: Limits, scope: Scope, view: RiskView) -> Denial | None:
    if limits.max_position_quantity is None and limits.max_position_notional is None:
        return None
    spec = facts.spec
    position = view.position(scope, spec.instrument)
    working = view.working(scope, spec.instrument, spec.side)
    if reduces_position(facts, position, working):
        return None
    worst = working + spec.quantity + (position if spec.side is Side.BUY else -position)
    if limits.max_position_quantity is not None and worst > limits.max_position_quantity:
        return Denial(
            "position_limit",
            f"{_worst_case(position, working, facts)} > limit {_fmt(limits.max_position_quantity)} "
            f"{spec.instrument}, {scope}",
        )
    price = facts.valuation_price
    if limits.max_position_notional is not None and price is None:
        return _unpriced(facts, scope, "max_position_notional")
    if limits.max_position_notional is not None and price is not None:
        notional = facts.instrument.notional(worst, price)
        if notional > limits.max_position_notional:
            return Denial(
                "position_notional_limit",
                f"({_worst_case(position, working, facts)}) x {_fmt(price)} = {_fmt(notional)} > limit "
                f"{_fmt(limits.max_position_notional)} {facts.instrument.quote_currency} "
                f"{spec.instrument}, {scope}",
            )
    return None


def _worst_case(position: Decimal, working: Decimal, facts: OrderFacts) -> str:
    """The numbers of a position denial; built only for one, since most orders pass."""
    spec = facts.spec
    return f"position {_fmt(position)} + working {spec.side} {_fmt(working)} + order {_fmt(spec.quantity)}"


def _unpriced(facts: OrderFacts, scope: Scope, limit: str) -> Denial:
    """Notional limits fail closed: an order nobody can value does not pass them."""
    return Denial(
        "no_reference_price",
        f"cannot value {facts.spec.side} {_fmt(facts.spec.quantity)} {facts.spec.instrument} for "
        f"{limit} of {scope}: no order price, quote or signal price",
    )


def check_open_orders(facts: OrderFacts, limits: Limits, scope: Scope, view: RiskView) -> Denial | None:
    if limits.max_open_orders is None:
        return None
    open_orders = view.open_orders(scope)
    if open_orders >= limits.max_open_orders:
        return Denial(
            "open_orders_limit",
            f"open orders {open_orders} + this order > limit {limits.max_open_orders}, {scope}",
        )
    return None


def check_exposure(facts: OrderFacts, limits: Limits, scope: Scope, view: RiskView) -> Denial | None:
    asset_class = facts.instrument.asset_class
    gross_limit = limits.max_gross_exposure.get(asset_class)
    net_limit = limits.max_net_exposure.get(asset_class)
    if gross_limit is None and net_limit is None:
        return None
    if _reduces_at(facts, scope, view):
        return None
    exposures = view.exposures(scope, asset_class)
    notional = facts.notional
    if isinstance(exposures, str) or notional is None:
        reason = exposures if isinstance(exposures, str) else "no reference price for the order"
        return Denial("exposure_unknown", f"cannot value {asset_class} exposure of {scope}: {reason}")
    order_value = view.to_scope_currency(scope, notional, facts.instrument.quote_currency)
    if order_value is None:
        return Denial(
            "exposure_unknown",
            f"no rate to convert {facts.instrument.quote_currency} to {exposures.currency} for {scope}",
        )
    currency = exposures.currency
    gross = exposures.gross + order_value
    if gross_limit is not None and gross > gross_limit:
        return Denial(
            "gross_exposure_limit",
            f"gross {asset_class} exposure {_fmt(exposures.gross)} + order {_fmt(order_value)} "
            f"> limit {_fmt(gross_limit)} {currency}, {scope}",
        )
    net = exposures.net + (order_value if facts.spec.side is Side.BUY else -order_value)
    if net_limit is not None and abs(net) > net_limit:
        return Denial(
            "net_exposure_limit",
            f"net {asset_class} exposure {_fmt(exposures.net)} {'+' if net > exposures.net else '-'} order "
            f"{_fmt(order_value)} = {_fmt(net)}, beyond limit {_fmt(net_limit)} {currency}, {scope}",
        )
    return None


def check_daily_loss(facts: OrderFacts, limits: Limits, scope: Scope, view: RiskView) -> Denial | None:
    if limits.max_daily_loss is None or _reduces_at(facts, scope, view):
        return None
    pnl = view.daily_pnl(scope)
    if pnl is None:
        return Denial("daily_pnl_unknown", f"cannot value today's P&L of {scope} (a position has no price)")
    if -pnl >= limits.max_daily_loss:
        return Denial(
            "daily_loss_limit",
            f"today's P&L {_fmt(pnl)} has reached the daily loss limit "
            f"{_fmt(limits.max_daily_loss)}, {scope}",
        )
    return None


def check_market(facts: OrderFacts, limits: Limits, scope: Scope) -> Denial | None:
    """Fat finger, spread, liquidity and stale-quote guards against the current quote."""
    quote, spec = facts.quote, facts.spec
    guards = (
        limits.price_collar_bps,
        limits.max_spread_bps,
        limits.max_touch_fraction,
        limits.max_quote_age_seconds,
    )
    if all(guard is None for guard in guards):
        return None
    if quote is None:
        return Denial(
            "no_quote", f"no quote for {spec.instrument}: market guards of {scope} cannot be checked"
        )
    age = Decimal(str((facts.now - quote.ts_event).total_seconds()))
    if limits.max_quote_age_seconds is not None and age > limits.max_quote_age_seconds:
        return Denial(
            "stale_quote",
            f"quote for {spec.instrument} is {_fmt(age.quantize(Decimal('0.001')))}s old > limit "
            f"{_fmt(limits.max_quote_age_seconds)}s, {scope}",
        )
    mid = quote.mid
    spread_bps = (quote.ask - quote.bid) / mid * BPS
    if limits.max_spread_bps is not None and spread_bps > limits.max_spread_bps:
        return Denial(
            "spread_too_wide",
            f"spread {_fmt(quote.bid)}/{_fmt(quote.ask)} = {_fmt(spread_bps.quantize(Decimal('0.01')))} bps "
            f"> limit {_fmt(limits.max_spread_bps)} bps {spec.instrument}, {scope}",
        )
    if limits.price_collar_bps is not None and spec.order_type in PRICED_TYPES:
        for name, price in (("limit", spec.limit_price), ("stop", spec.stop_price)):
            if price is None:
                continue
            distance = abs(price - mid) / mid * BPS
            if distance > limits.price_collar_bps:
                return Denial(
                    "price_collar",
                    f"{name} price {_fmt(price)} is {_fmt(distance.quantize(Decimal('0.01')))} bps from mid "
                    f"{_fmt(mid)} > collar {_fmt(limits.price_collar_bps)} bps {spec.instrument}, {scope}",
                )
    if limits.max_touch_fraction is not None:
        displayed = quote.ask_size if spec.side is Side.BUY else quote.bid_size
        if spec.quantity > displayed * limits.max_touch_fraction:
            return Denial(
                "liquidity",
                f"order {_fmt(spec.quantity)} > {_fmt(limits.max_touch_fraction)} x displayed "
                f"{_fmt(displayed)} at the touch {spec.instrument}, {scope}",
            )
    return None


SESSION_CLOSED = "session_closed"


def check_session(facts: OrderFacts, view: RiskView) -> Denial | None:
    """No order reaches a venue while its instrument's session is closed: the exchange would reject
    it anyway. Reduce-only and flatten orders are no exception, for the same reason. The reason says
    when the session opens next, in UTC."""
    session = view.session_state(facts.instrument, facts.now)
    if session.open:
        return None
    instrument = facts.spec.instrument
    if session.next_open is None:
        when = session.problem or "the calendar has no next session"
        return Denial(SESSION_CLOSED, f"{instrument}'s session ({session.calendar}) is closed: {when}")
    opens = session.next_open.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Denial(SESSION_CLOSED, f"{instrument}'s session ({session.calendar}) is closed: opens {opens}")


VENUE_NOT_READY = "venue_not_ready"


def check_venue_health(facts: OrderFacts, view: RiskView) -> Denial | None:
    """No new order to a venue that is down, reconnecting or reconciling: it could not be sent, or
    would be sized against a position that a fill lost with the connection has already changed.
    The reason says what the venue is doing and when orders resume."""
    status = view.venue_status(facts.spec.venue)
    refusal = None if status is None else status.refusal()
    return None if refusal is None else Denial(VENUE_NOT_READY, refusal)
