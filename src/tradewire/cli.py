"""The `tradewire` command: run the engine, or talk to a running one through its HTTP API.

The commands for limits, the kill switch and amends are in `cli_risk`; what every client command
shares (options, output, errors) is in `cli_format`.

Exit codes: 0 done (a signal accepted or needing no action), 1 refused or failed (a denied signal,
an error answer, an engine that cannot be reached), 2 invalid input (every problem is printed).
"""

import asyncio
import logging
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

import click
import pydantic

from tradewire import __version__
from tradewire.cli_format import (
    ACCOUNT_COLUMNS,
    EXIT_FAILED,
    FILL_COLUMNS,
    ORDER_COLUMNS,
    POSITION_COLUMNS,
    RECONCILIATION_COLUMNS,
    VENUE_COLUMNS,
    Remote,
    columns_table,
    fields,
    remote_command,
)
from tradewire.cli_risk import RISK_COMMANDS
from tradewire.domain.enums import OrderType, Side, SignalOutcome, TimeInForce
from tradewire.runtime.settings import load_settings

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

# --- commands ------------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tradewire")
def cli() -> None:
    """Tradewire: signals become risk-checked, journaled orders at your venues.

    `tradewire run` starts the engine and its API. The other commands talk to a running engine
    over its HTTP API (--url, default http://127.0.0.1:8080) with its token (--token, or the
    file <data dir>/api-token the engine writes on its first start).
    """


@cli.command()
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A TOML config file (optional: the defaults run a paper venue).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Journal, paper venue state and api-token live here.  [default: var]",
)
@click.option("--host", help="Address the API listens on.  [default: 127.0.0.1]")
@click.option("--port", type=click.IntRange(0, 65535), help="API port.  [default: 8080]")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="[default: info]",
)
def run(
    config: Path | None,
    data_dir: Path | None,
    host: str | None,
    port: int | None,
    log_level: str | None,
) -> None:
    """Run the engine and its HTTP API until Ctrl+C or SIGTERM.

    Flags override the environment (TRADEWIRE_..., e.g. TRADEWIRE_API__PORT=9000), which
    overrides the config file. Without a token configured (TRADEWIRE_API_TOKEN), one is
    generated into <data dir>/api-token on the first start.
    """
    api = {name: value for name, value in (("host", host), ("port", port)) if value is not None}
    try:
        settings = load_settings(config, data_dir=data_dir, api=api or None, log_level=log_level)
    except FileNotFoundError as error:
        raise click.BadParameter(str(error), param_hint="--config") from None
    except pydantic.ValidationError as error:
        raise click.ClickException(f"invalid settings:\n{error}") from None
    logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT, stream=sys.stderr)
    # Imported here: the client commands start faster without the server's dependencies.
    from tradewire.runtime.serve import serve  # noqa: PLC0415

    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(serve(settings))
    except OSError as error:
        raise click.ClickException(str(error)) from None


SIGNAL_EPILOG = """\b
Examples:
  tradewire signal --strategy trend-1 --instrument EURUSD --side buy --quantity 10000 \\
      --type limit --limit-price 1.08000 --key trend-1:2026-01-05:1
  tradewire signal --strategy mean-rev --instrument AAPL --target-position -20
  echo '{"strategy": "s1", "instrument": "AAPL", "side": "buy", "quantity": "5"}' \\
      | tradewire signal --file -

Exit status: 0 accepted or no action, 1 denied (the reason is printed) or the engine could not
be reached, 2 invalid signal (every problem is printed).
"""


def _choice(kind: type[Enum]) -> click.Choice[str]:
    return click.Choice([str(member.value) for member in kind])


@remote_command(cli, "signal")
@click.option("--strategy", help="Strategy ID.")
@click.option("--instrument", help="Instrument ID, e.g. EURUSD, BTC/USDT, AAPL.")
@click.option("--account", help="Account ID (default: the strategy's or the venue's account).")
@click.option("--side", type=_choice(Side), help="With --quantity or --notional.")
@click.option("--quantity", help="Size in units of the instrument (exact decimal).")
@click.option("--notional", help="Size in the quote currency, instead of --quantity.")
@click.option("--target-position", help="Signed position to hold (negative is short); no --side.")
@click.option("--type", "order_type", type=_choice(OrderType), help="[default: market]")
@click.option("--limit-price", help="For limit and stop_limit orders.")
@click.option("--stop-price", help="For stop and stop_limit orders.")
@click.option("--tif", "time_in_force", type=_choice(TimeInForce), help="Time in force.  [default: gtc]")
@click.option("--signal-price", help="The price the strategy saw (the reference for slippage).")
@click.option("--key", "idempotency_key", help="Idempotency key: resending the same key sends nothing twice.")
@click.option("--reduce-only", is_flag=True, help="Only ever reduce the position.")
@click.option(
    "--file",
    type=click.File("rb"),
    help="Read the signal as JSON from this file ('-' for stdin) instead of the options above.",
)
def signal(remote: Remote, file: Any, reduce_only: bool, **options: str | None) -> None:
    """Submit a signal: an order intent (side + quantity or notional) or a target position.

    The engine validates it and answers with the outcome and the order IDs, or the reason a
    denial happened. Decimals are sent as written, never through a float.
    """
    given: dict[str, object] = {name: value for name, value in options.items() if value}
    if reduce_only:
        given["reduce_only"] = True
    if file is not None and given:
        raise click.UsageError("--file cannot be combined with the signal's field options")
    body = file.read() if file is not None else given
    result = remote.client.submit_signal(body)
    remote.show(result, lambda: _signal_text(result))
    if result.outcome is SignalOutcome.DENIED:
        raise SystemExit(EXIT_FAILED)


signal.epilog = SIGNAL_EPILOG


def _signal_text(result: Any) -> str:
    lines = [f"{result.outcome.value}  signal {result.signal_id}"]
    if result.client_order_ids:
        lines.append("orders: " + ", ".join(result.client_order_ids))
    if result.reason_code or result.reason:
        lines.append(f"reason: {result.reason_code or '-'}: {result.reason or '-'}")
    if result.duplicate:
        lines.append("(replayed: an earlier signal with the same key produced this; nothing sent)")
    return "\n".join(lines)


@remote_command(cli, "orders")
@click.option("--status", help="A status, a comma-separated list, or 'open'.")
@click.option("--strategy")
@click.option("--account")
@click.option("--instrument")
@click.option("--limit", type=click.IntRange(1, 10_000), help="[default: 500]")
def orders(remote: Remote, **filters: Any) -> None:
    """List orders, newest first."""
    views = remote.client.orders(**filters)
    remote.show(views, lambda: columns_table(views, ORDER_COLUMNS, "no orders"))


@remote_command(cli, "order")
@click.argument("client_order_id")
def order(remote: Remote, client_order_id: str) -> None:
    """Show one order by its client order ID."""
    view = remote.client.order(client_order_id)
    remote.show(view, lambda: fields(view))


@remote_command(cli, "cancel", changes=True)
@click.argument("client_order_id")
def cancel(remote: Remote, client_order_id: str) -> None:
    """Ask the venue to cancel an order; prints the order's status after the request."""
    view = remote.client.cancel(client_order_id)
    remote.show(view, lambda: f"cancel requested: {view.client_order_id} is {view.status.value}")


@remote_command(cli, "positions")
@click.option("--account")
@click.option("--by-strategy", is_flag=True, help="Per strategy (attribution), not per account.")
@click.option("--include-flat", is_flag=True, help="Also flat positions with no realized P&L.")
def positions(remote: Remote, account: str | None, by_strategy: bool, include_flat: bool) -> None:
    """List positions per account (or per strategy) with P&L at the current mark."""
    views = remote.client.positions(account, by_strategy, include_flat)
    shown = ["account", "strategy", *POSITION_COLUMNS[1:]] if by_strategy else POSITION_COLUMNS
    remote.show(views, lambda: columns_table(views, shown, "no positions"))


@remote_command(cli, "fills")
@click.option("--account")
@click.option("--strategy")
@click.option("--order", "client_order_id", help="Only the fills of this client order ID.")
@click.option("--limit", type=click.IntRange(1, 10_000), help="[default: 500]")
def fills(remote: Remote, **filters: Any) -> None:
    """List fills, newest first."""
    views = remote.client.fills(**filters)
    remote.show(views, lambda: columns_table(views, FILL_COLUMNS, "no fills"))


@remote_command(cli, "accounts")
def accounts(remote: Remote) -> None:
    """List the configured accounts with their venue connection and P&L."""
    views = remote.client.accounts()
    remote.show(views, lambda: columns_table(views, ACCOUNT_COLUMNS, "no accounts"))


@remote_command(cli, "venues")
def venues(remote: Remote) -> None:
    """List each venue's health (connected, reconciling, degraded, down), active connection and
    reconnect attempts; exit 1 when a venue does not take orders now."""
    views = remote.client.venues()
    remote.show(views, lambda: columns_table(views, VENUE_COLUMNS, "no venues"))
    if not all(view.accepts_orders for view in views):
        raise SystemExit(EXIT_FAILED)


@remote_command(cli, "reconcile", changes=True)
@click.option("--last", is_flag=True, help="Show the latest reports instead of reconciling now.")
def reconcile(remote: Remote, last: bool) -> None:
    """Reconcile every connected venue now (orders, fills, positions), or show the latest reports.

    Exit 1 when a report is not clean (orders at a venue the journal does not know, or a position
    that differs)."""
    reports = remote.client.reconciliations()[:10] if last else remote.client.reconcile()

    def text() -> str:
        lines = [columns_table(reports, RECONCILIATION_COLUMNS, "no reconciliation yet")]
        for report in reports:
            lines += [
                f"{report.venue}: position {d.account} {d.instrument}: ours {d.ours}, venue {d.venue}"
                for d in report.position_differences
            ]
        return "\n".join(lines)

    remote.show(reports, text)
    if any(not report.clean for report in reports):
        raise SystemExit(EXIT_FAILED)


@remote_command(cli, "health", needs_token=False)
def health(remote: Remote) -> None:
    """Show the engine's health; exit 1 when it is degraded (a venue disconnected)."""
    view = remote.client.health()
    remote.show(view, lambda: fields(view))
    if view.status != "ok":
        raise SystemExit(EXIT_FAILED)


for risk_command in RISK_COMMANDS:
    cli.add_command(risk_command)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (the `fast` extra), else asyncio's own loop."""
    try:
        import uvloop  # noqa: PLC0415 - optional
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def main() -> None:
    cli()
