"""What the client commands share: the common options, the client they get, how they print
answers (tables, fields, or the API's JSON) and how errors become messages and exit codes.

Exit codes: 0 done, 1 refused or failed (a denial, an error answer, an engine that cannot be
reached), 2 invalid input (every problem is printed).
"""

import functools
import getpass
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
from click.core import ParameterSource

from tradewire.client import ApiError, OutcomeUnknown, TradewireClient, Unreachable
from tradewire.runtime.settings import Settings
from tradewire.runtime.token import read_token

DEFAULT_URL = "http://127.0.0.1:8080"
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
    "accepts_orders": "ORDERS",
    "reconnect_attempt": "ATTEMPT",
    "since": "SINCE (UTC)",
    "last_reconciliation": "LAST RECONCILIATION",
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


VENUE_COLUMNS = [
    "venue",
    "health",
    "accepts_orders",
    "connection",
    "reconnect_attempt",
    "since",
    "last_reconciliation",
    "reason",
]
RECONCILIATION_COLUMNS = [
    "venue",
    "finished_at",
    "fills_applied",
    "orders_updated",
    "orders_not_found",
    "unknown_venue_orders",
    "clean",
]


def columns_table(items: Sequence[msgspec.Struct], columns: Sequence[str], empty: str) -> str:
    if not items:
        return empty
    headers = [HEADERS.get(name, name.replace("_", " ").upper()) for name in columns]
    return table(headers, [[getattr(item, name) for name in columns] for item in items])


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
    group: click.Group | None,
    name: str,
    needs_token: bool = True,
    changes: bool = False,
    subcommands: bool = False,
) -> Callable[[Callable[..., Any]], Any]:
    """A command that gets a `Remote` built from the common options, with errors reported, added
    to `group` (or returned alone, for a module to add).

    `changes`: it changes something at the engine, so it takes --operator (sent as X-Operator).
    `subcommands`: it is a group; it runs alone (`tradewire limits`), not before a subcommand.
    """

    def decorate(function: Callable[..., None]) -> Any:
        @functools.wraps(function)
        def run(
            *,
            url: str,
            token: str | None,
            data_dir: Path,
            as_json: bool,
            timeout: float,
            operator: str | None = None,
            **kw: Any,
        ) -> None:
            if subcommands and click.get_current_context().invoked_subcommand is not None:
                _refuse_group_options(click.get_current_context())
                return
            if token is None and needs_token:
                token = read_token(Settings.model_construct(data_dir=data_dir))
                if token is None:
                    raise click.ClickException(
                        "no API token: pass --token, set TRADEWIRE_API_TOKEN, or point --data-dir"
                        f" at the engine's data directory (there is no {data_dir / 'api-token'})"
                    )
            with TradewireClient(url, token, timeout, operator=operator) as client, reported(as_json):
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
        if changes:
            options.append(OPERATOR_OPTION)
        command: Any = run
        for option in reversed(options):
            command = option(command)
        make = click.group(name, invoke_without_command=True) if subcommands else click.command(name)
        made = make(command)
        if group is not None:
            group.add_command(made)
        return made

    return decorate


def _refuse_group_options(context: click.Context) -> None:
    """`tradewire limits --url X set ...` would send `set` to the default URL: refuse it."""
    given = [
        param.opts[0]
        for param in context.command.params
        if param.name and context.get_parameter_source(param.name) is ParameterSource.COMMANDLINE
    ]
    if given:
        raise click.UsageError(
            f"put {', '.join(given)} after `{context.invoked_subcommand}`: the options before it"
            " only apply when it is run without a subcommand"
        )


def os_user() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in a bare container
        return None


OPERATOR_OPTION = click.option(
    "--operator",
    envvar="TRADEWIRE_OPERATOR",
    default=os_user,
    show_default="your OS user name",
    help="Who is acting, journaled as api:<name>: 1-64 letters, digits, . _ @ - (env TRADEWIRE_OPERATOR).",
)
