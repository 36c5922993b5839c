"""The `tradewire` command: run the engine, or talk to a running one through its HTTP API.

Exit codes: 0 done (a signal accepted or needing no action), 1 refused or failed (a denied signal,
an error answer, an engine that cannot be reached), 2 invalid input (every problem is printed).
"""

import asyncio
import functools
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import click
import msgspec
import pydantic

from tradewire import __version__
from tradewire.client import ApiError, OutcomeUnknown, TradewireClient, Unreachable
from tradewire.domain.enums import OrderType, Side, SignalOutcome, TimeInForce
from tradewire.runtime.settings import Settings, load_settings
from tradewire.runtime.token import read_token

DEFAULT_URL = "http://127.0.0.1:8080"
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
EXIT_FAILED = 1
EXIT_INVALID = 2

# --- output ------------------------------------------------------------------------------------


def cell(value: object) -> str:
    """One value as text: decimals exactly (never in exponent form), times in UTC."""
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") + "Z"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, tuple | list):
        return ", ".join(cell(item) for item in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{key}={cell(item)}" for key, item in value.items()) or "-"
    return str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Aligned columns; a column holding only numbers is aligned right."""
    values = [list(row) for row in rows]
    texts = [[cell(value) for value in row] for row in values]
    numeric = [
        all(_is_number(row[i]) for row in values) and any(row[i] is not None for row in values)
        for i in range(len(headers))
    ]
    widths = [max([len(h)] + [len(row[i]) for row in texts]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            text.rjust(width) if right else text.ljust(width)
            for text, width, right in zip(cells, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(row) for row in texts)])


def _is_number(value: object) -> bool:
    return value is None or (isinstance(value, Decimal | int) and not isinstance(value, bool))


def fields(value: msgspec.Struct) -> str:
    """One struct as `name: value` lines."""
    items = msgspec.structs.asdict(value)
    width = max(len(name) for name in items)
    return "\n".join(f"{name.ljust(width)}  {cell(item)}" for name, item in items.items())


# --- talking to a running engine ---------------------------------------------------------------


@dataclass(frozen=True)
class Remote:
    """What a command talking to the engine gets: an open client and how to print."""

    client: TradewireClient
    as_json: bool

    def show(self, value: object, text: Callable[[], str]) -> None:
        """Print the API's JSON with --json (the same bytes the API sent), else `text()`."""
        click.echo(msgspec.json.encode(value).decode() if self.as_json else text())


@contextmanager
def reported(as_json: bool) -> Iterator[None]:
    """Turn the client's errors into messages and exit codes."""
    try:
        yield
    except OutcomeUnknown as error:
        click.echo(
            f"error: {error}.\nThe engine may have acted on it: look with `tradewire orders` "
            "before sending it again (a signal with --key is safe to resend).",
            err=True,
        )
        raise SystemExit(EXIT_FAILED) from None
    except Unreachable as error:
        click.echo(
            f"error: cannot reach Tradewire at {error.url} ({error.reason}).\n"
            "Is the engine running? Start it with `tradewire run` (its --host/--port must match),"
            " or point --url / TRADEWIRE_URL at it.",
            err=True,
        )
        raise SystemExit(EXIT_FAILED) from None
    except ApiError as error:
        if as_json:
            click.echo(error.body.decode(errors="replace"))
        else:
            click.echo(f"error ({error.status} {error.error}): {error.message}", err=True)
            for problem in error.problems:
                click.echo(f"  {problem.field}: {problem.problem}", err=True)
                click.echo(f"  {' ' * len(problem.field)}  accepted: {problem.accepted}", err=True)
        raise SystemExit(EXIT_INVALID if error.status == 422 else EXIT_FAILED) from None


def remote_command(
    group: click.Group, name: str, needs_token: bool = True
) -> Callable[[Callable[..., None]], click.Command]:
    """A subcommand that gets a `Remote` built from the common options, with errors reported."""

    def decorate(function: Callable[..., None]) -> click.Command:
        @functools.wraps(function)
        def run(
            url: str, token: str | None, data_dir: Path, as_json: bool, timeout: float, **kw: Any
        ) -> None:
            if token is None and needs_token:
                token = read_token(Settings.model_construct(data_dir=data_dir))
                if token is None:
                    raise click.ClickException(
                        "no API token: pass --token, set TRADEWIRE_API_TOKEN, or point --data-dir"
                        f" at the engine's data directory (there is no {data_dir / 'api-token'})"
                    )
            with TradewireClient(url, token, timeout) as client, reported(as_json):
                function(Remote(client, as_json), **kw)

        options = [
            click.option(
                "--url",
                envvar="TRADEWIRE_URL",
                default=DEFAULT_URL,
                show_default=True,
                help="The engine's API (env TRADEWIRE_URL).",
            ),
            click.option(
                "--token",
                envvar="TRADEWIRE_API_TOKEN",
                help="API token (env TRADEWIRE_API_TOKEN; default: read <data dir>/api-token).",
            ),
            click.option(
                "--data-dir",
                type=click.Path(file_okay=False, path_type=Path),
                envvar="TRADEWIRE_DATA_DIR",
                default=Path("var"),
                show_default=True,
                help="The engine's data directory, for its api-token file (env TRADEWIRE_DATA_DIR).",
            ),
            click.option("--json", "as_json", is_flag=True, help="Print the API's JSON instead."),
            click.option(
                "--timeout",
                type=float,
                default=10.0,
                show_default=True,
                help="Seconds to wait for an answer.",
            ),
        ]
        command: Any = run
        for option in reversed(options):
            command = option(command)
        return group.command(name)(command)

    return decorate


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


HEADERS = {
    "client_order_id": "ORDER",
    "filled_quantity": "FILLED",
    "order_type": "TYPE",
    "limit_price": "LIMIT",
    "stop_price": "STOP",
    "average_fill_price": "AVG PRICE",
    "average_price": "AVG PRICE",
    "created_at": "CREATED (UTC)",
    "ts_event": "TIME (UTC)",
    "mark_price": "MARK",
    "realized_pnl": "REALIZED",
    "unrealized_pnl": "UNREALIZED",
    "net_pnl": "NET P&L",
    "fee_currency": "CCY",
    "venue_connected": "CONNECTED",
    "fill_id": "FILL",
}
"""Short column headers; any other field is shown as its name in capitals."""
ORDER_COLUMNS = [
    "client_order_id",
    "status",
    "strategy",
    "account",
    "instrument",
    "side",
    "order_type",
    "quantity",
    "filled_quantity",
    "limit_price",
    "stop_price",
    "average_fill_price",
    "created_at",
]
POSITION_COLUMNS = [
    "account",
    "instrument",
    "quantity",
    "average_price",
    "mark_price",
    "realized_pnl",
    "unrealized_pnl",
    "fees",
    "net_pnl",
]
FILL_COLUMNS = [
    "ts_event",
    "client_order_id",
    "account",
    "strategy",
    "instrument",
    "side",
    "quantity",
    "price",
    "fee",
    "fee_currency",
    "liquidity",
    "fill_id",
]
ACCOUNT_COLUMNS = [
    "account",
    "venue",
    "currency",
    "venue_connected",
    "open_orders",
    "realized_pnl",
    "unrealized_pnl",
    "fees",
]


def _columns(items: Sequence[msgspec.Struct], columns: Sequence[str], empty: str) -> str:
    if not items:
        return empty
    headers = [HEADERS.get(name, name.replace("_", " ").upper()) for name in columns]
    return table(headers, [[getattr(item, name) for name in columns] for item in items])


@remote_command(cli, "orders")
@click.option("--status", help="A status, a comma-separated list, or 'open'.")
@click.option("--strategy")
@click.option("--account")
@click.option("--instrument")
@click.option("--limit", type=click.IntRange(1, 10_000), help="[default: 500]")
def orders(remote: Remote, **filters: Any) -> None:
    """List orders, newest first."""
    views = remote.client.orders(**filters)
    remote.show(views, lambda: _columns(views, ORDER_COLUMNS, "no orders"))


@remote_command(cli, "order")
@click.argument("client_order_id")
def order(remote: Remote, client_order_id: str) -> None:
    """Show one order by its client order ID."""
    view = remote.client.order(client_order_id)
    remote.show(view, lambda: fields(view))


@remote_command(cli, "cancel")
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
    columns = ["account", "strategy", *POSITION_COLUMNS[1:]] if by_strategy else POSITION_COLUMNS
    remote.show(views, lambda: _columns(views, columns, "no positions"))


@remote_command(cli, "fills")
@click.option("--account")
@click.option("--strategy")
@click.option("--order", "client_order_id", help="Only the fills of this client order ID.")
@click.option("--limit", type=click.IntRange(1, 10_000), help="[default: 500]")
def fills(remote: Remote, **filters: Any) -> None:
    """List fills, newest first."""
    views = remote.client.fills(**filters)
    remote.show(views, lambda: _columns(views, FILL_COLUMNS, "no fills"))


@remote_command(cli, "accounts")
def accounts(remote: Remote) -> None:
    """List the configured accounts with their venue connection and P&L."""
    views = remote.client.accounts()
    remote.show(views, lambda: _columns(views, ACCOUNT_COLUMNS, "no accounts"))


@remote_command(cli, "health", needs_token=False)
def health(remote: Remote) -> None:
    """Show the engine's health; exit 1 when it is degraded (a venue disconnected)."""
    view = remote.client.health()
    remote.show(view, lambda: fields(view))
    if view.status != "ok":
        raise SystemExit(EXIT_FAILED)


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
