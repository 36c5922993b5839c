"""The commands that control risk at a running engine: limits, the kill switch, and amends.

Each change is journaled with who made it (--operator, default your OS user name).
"""

from typing import Any

import click
import msgspec

from tradewire.cli_format import EXIT_FAILED, Remote, cell, remote_command, table
from tradewire.domain.enums import AssetClass
from tradewire.domain.limits import Limits
from tradewire.oms.controls import KillSwitchResult
from tradewire.services.views import AmendResult, TradingStateView

SCOPE_HELP = "portfolio, account:<id>, strategy:<id> or venue:<id>.  [default: portfolio]"
REASON_HELP = "Why (1-500 characters): journaled with who did it."


def _limit_rows(scope: str, limits: Limits) -> list[list[object]]:
    given = msgspec.structs.asdict(limits)
    return [[scope, name, value] for name, value in given.items() if value is not None and value != {}]


def _limits_text(limits: dict[str, Limits]) -> str:
    rows = [row for scope in sorted(limits) for row in _limit_rows(scope, limits[scope])]
    return table(["SCOPE", "LIMIT", "VALUE"], rows) if rows else "no limits set"


def _states_text(states: list[TradingStateView]) -> str:
    if not states:
        return "no kill switch engaged: every scope is active"
    return table(["SCOPE", "STATE", "FLAT"], [[s.scope, s.state, s.flat] for s in states])


@remote_command(None, "limits", subcommands=True)
def limits(remote: Remote) -> None:
    """Show the risk limits in force, per scope; `tradewire limits set` replaces a scope's."""
    view = remote.client.limits()
    remote.show(view, lambda: _limits_text(view))


LIMITS_SET_EPILOG = """\b
Examples:
  tradewire limits set account:paper-1 --max-order-quantity 5 --max-open-orders 20 \\
      --max-daily-loss 2500 --gross-exposure crypto_spot=100000
  tradewire limits set portfolio --file limits.json
  tradewire limits set strategy:trend-1 --clear

Exit status: 0 replaced, 1 the engine refused or could not be reached, 2 invalid limits.
"""

DECIMAL_LIMITS = {
    "max_order_quantity": "Per order, in units of the instrument.",
    "max_order_notional": "Per order: quantity x price x multiplier, in the quote currency.",
    "max_position_quantity": "Per instrument, worst case: position + working orders + this order.",
    "max_position_notional": "The same worst case, valued at the reference price.",
    "max_orders_per_second": "Average order rate (bursts up to --order-burst).",
    "max_daily_loss": "Loss since the trading day began; reaching it engages the kill switch.",
    "price_collar_bps": "A limit or stop price further than this from the mid is denied.",
    "max_spread_bps": "Deny orders while the spread is wider than this.",
    "max_touch_fraction": "Deny an order larger than this fraction of the size at the touch.",
    "max_quote_age_seconds": "Deny orders priced off a quote older than this.",
}
EXPOSURE_HELP = "CLASS=AMOUNT, repeatable; classes: " + ", ".join(AssetClass)


def _decimal_options(function: Any) -> Any:
    for name, help_text in reversed(DECIMAL_LIMITS.items()):
        option = click.option("--" + name.replace("_", "-"), name, metavar="DECIMAL", help=help_text)
        function = option(function)
    return function


def _exposure(values: tuple[str, ...], option: str) -> dict[str, str]:
    amounts = {}
    for value in values:
        asset_class, equals, amount = value.partition("=")
        if not equals or not asset_class or not amount:
            raise click.BadParameter(f"{value!r} is not CLASS=AMOUNT", param_hint=option)
        amounts[asset_class.strip()] = amount.strip()
    return amounts


@remote_command(limits, "set", changes=True)
@click.argument("scope")
@_decimal_options
@click.option("--max-open-orders", type=click.IntRange(min=0), metavar="N", help="Working orders at once.")
@click.option("--order-burst", type=click.IntRange(min=0), metavar="N", help="Orders allowed in a burst.")
@click.option("--gross-exposure", multiple=True, metavar="CLASS=AMOUNT", help=EXPOSURE_HELP)
@click.option("--net-exposure", multiple=True, metavar="CLASS=AMOUNT", help=EXPOSURE_HELP)
@click.option(
    "--file",
    type=click.File("rb"),
    help="""Read the limits from a JSON object, e.g. {"max_order_quantity": "5"} ('-' for stdin).""",
)
@click.option("--clear", is_flag=True, help="Remove every limit of the scope.")
def set_limits(
    remote: Remote,
    *,
    scope: str,
    gross_exposure: tuple[str, ...],
    net_exposure: tuple[str, ...],
    file: Any,
    clear: bool,
    **options: str | int | None,
) -> None:
    """REPLACE the limits of SCOPE (portfolio, account:<id>, strategy:<id> or venue:<id>).

    Every limit not given is REMOVED from the scope: this sets the scope's whole set of limits,
    it does not change one. Decimals are sent as written. The change is journaled with who made
    it and stays in force across restarts until the config file's limits for the scope change.
    """
    given: dict[str, object] = {name: value for name, value in options.items() if value is not None}
    if gross_exposure:
        given["max_gross_exposure"] = _exposure(gross_exposure, "--gross-exposure")
    if net_exposure:
        given["max_net_exposure"] = _exposure(net_exposure, "--net-exposure")
    if sum((bool(given), file is not None, clear)) != 1:
        raise click.UsageError("give the limits as options, or --file, or --clear (exactly one of these)")
    before = remote.client.limits().get(scope)
    after = remote.client.set_limits(scope, file.read() if file is not None else given)
    remote.show(after, lambda: _replaced_text(scope, before, after))


set_limits.epilog = LIMITS_SET_EPILOG


def _replaced_text(scope: str, before: Limits | None, after: Limits) -> str:
    lines = [f"{scope}: limits replaced"]
    rows = _limit_rows(scope, after)
    lines.append(
        table(["SCOPE", "LIMIT", "VALUE"], rows) if rows else "no limits left: nothing is limited here"
    )
    kept = {row[1] for row in rows}
    for _, name, value in _limit_rows(scope, before) if before is not None else []:
        if name not in kept:
            lines.append(f"removed: {name} (was {cell(value)})")
    return "\n".join(lines)


@remote_command(None, "kill-switch")
def kill_switch(remote: Remote) -> None:
    """Show the kill-switch state of every scope that was ever halted or reducing."""
    states = remote.client.kill_switch_states()
    remote.show(states, lambda: _states_text(states))


KILL_EPILOG = """\b
Examples:
  tradewire kill --reason "venue outage"
  tradewire kill --scope strategy:trend-1 --reducing --reason "drawdown"
  tradewire kill --scope account:paper-1 --flatten --reason "close everything"

It stays engaged until `tradewire resume`. Exit status: 0 engaged, 1 engaged but a flatten
order was denied (its reason is printed) or the engine refused or could not be reached,
2 invalid input.
"""


@remote_command(None, "kill", changes=True)
@click.option("--scope", default="portfolio", help=SCOPE_HELP)
@click.option(
    "--reducing", is_flag=True, help="Let orders that reduce a position through (default: halt all)."
)
@click.option("--flatten", is_flag=True, help="Also cancel working orders and close the scope's positions.")
@click.option("--keep-orders", is_flag=True, help="Do not cancel the scope's working orders.")
@click.option("--reason", required=True, help=REASON_HELP)
def kill(
    remote: Remote, *, scope: str, reducing: bool, flatten: bool, keep_orders: bool, reason: str
) -> None:
    """Engage the kill switch: halt new orders in a scope (cancels always pass).

    By default the scope's working orders are canceled. --flatten moves the scope to reducing,
    cancels its working orders and sends reduce-only market orders closing its positions.
    """
    if flatten and keep_orders:
        raise click.UsageError("--flatten cancels the working orders; it cannot be used with --keep-orders")
    result = remote.client.engage_kill_switch(
        reason, scope, "reducing" if reducing else None, flatten=flatten, cancel_working=not keep_orders
    )
    remote.show(result, lambda: _kill_text(result, keep_orders))
    if any(order.denied for order in result.flatten_orders):
        raise SystemExit(EXIT_FAILED)


kill.epilog = KILL_EPILOG


def _kill_text(result: KillSwitchResult, kept: bool) -> str:
    lines = [f"kill switch engaged: {result.scope} is {result.state.value}"]
    if result.canceled:
        lines.append(f"cancel requested for {len(result.canceled)}: " + ", ".join(result.canceled))
    else:
        lines.append("working orders kept" if kept else "no working orders to cancel")
    for order in result.flatten_orders:
        what = f"{order.side.value} {cell(order.quantity)} {order.instrument}"
        where = f"({order.account}, {order.strategy})"
        if order.denied:
            lines.append(f"flatten DENIED: {order.client_order_id} {what} {where}: {order.denied}")
        else:
            lines.append(f"flatten sent: {order.client_order_id} {what} {where}")
    lines.append(f"it stays engaged until: tradewire resume --scope {result.scope} --reason ...")
    return "\n".join(lines)


@remote_command(None, "resume", changes=True)
@click.option("--scope", default="portfolio", help=SCOPE_HELP)
@click.option("--reason", required=True, help=REASON_HELP)
def resume(remote: Remote, scope: str, reason: str) -> None:
    """Re-arm a scope the kill switch halted or put in reducing: it becomes active."""
    states = remote.client.resume(reason, scope)
    remote.show(states, lambda: f"{scope} is active\n" + _states_text(states))


@remote_command(None, "amend", changes=True)
@click.argument("client_order_id")
@click.option("--quantity", help="The new total quantity (exact decimal).")
@click.option("--limit-price", help="The new limit price.")
@click.option("--stop-price", help="The new stop price.")
def amend(
    remote: Remote,
    *,
    client_order_id: str,
    quantity: str | None,
    limit_price: str | None,
    stop_price: str | None,
) -> None:
    """Amend a working order; it passes the risk checks like a new order.

    Exit status: 0 sent to the venue, 1 denied by the risk checks (the reason is printed; the
    order is unchanged) or refused, 2 invalid input.
    """
    if quantity is None and limit_price is None and stop_price is None:
        raise click.UsageError("give at least one of --quantity, --limit-price, --stop-price")
    result = remote.client.amend(client_order_id, quantity, limit_price, stop_price)
    remote.show(result, lambda: _amend_text(result))
    if result.denied:
        raise SystemExit(EXIT_FAILED)


def _amend_text(result: AmendResult) -> str:
    order = result.order
    if result.denied:
        return (
            f"amend denied: {result.reason_code}: {result.reason}\n"
            f"{order.client_order_id} is unchanged ({order.status.value})"
        )
    return (
        f"amend sent: {order.client_order_id} is {order.status.value} until the venue answers;"
        f" follow it with `tradewire order {order.client_order_id}`"
    )


RISK_COMMANDS = (limits, kill_switch, kill, resume, amend)
