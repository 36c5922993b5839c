"""The one interface every venue adapter implements, and the capabilities it declares as data.

Contract (every adapter passes the shared contract suite in tests/contract/):
- `submit`, `cancel` and `modify` hand a request to the venue and return; the venue's answer arrives
  later as reports through `on_report`, never from inside these calls (as it would over a network).
- Errors from `submit`, `cancel` and `modify` say whether the venue acted. Adapters translate their
  venue's errors into these at the boundary (`tradewire.domain.errors`), grouped by how the engine
  handles them; every `VenueUnavailable` guarantees the venue did NOT act on the request:
  - `VenueUnavailable` itself: not connected, the request never left; settled as "not sent".
  - `VenueBusy` (temporary): rate limited or overloaded and certainly not processed (429, a 503 the
    venue documents as not processed), optionally with `retry_after` seconds. The order manager
    retries it with backoff up to `venue_requests.retries.attempts` tries in all, then gives up.
  - `VenueRefused` (rejected): refused for good with a `code` (`insufficient_funds`,
    `invalid_order`, ...); the order, cancel or amend is rejected with "<code>: <message>".
  - `VenueAuthFailed` (needs a human): credentials refused; the venue's scope is halted.
  Any other exception (timeout, I/O error, a 5xx that may have been processed) means the outcome is
  unknown and the engine settles it by querying the venue by client order ID. Adapters never retry
  or resend on their own: a retry is the engine's decision, made only when the venue did not act.
- `capabilities.rate_limits` declares the venue's request limits as data; the engine paces
  `submit`, `cancel` and `modify` against them (a rate budget, see `tradewire.venues.throttle`)
  before calling the adapter. Settings may override them per venue.
- The query methods return what the venue says is true now; they are what reconciliation uses.
- Reports are delivered in the order the venue produced them, but the engine tolerates duplicates
  and reordering (a fill before the ack, a fill after the cancel ack).
"""

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Protocol

import msgspec

from tradewire.domain.enums import OrderType, TimeInForce
from tradewire.domain.events import OrderSpec
from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId, VenueId, VenueOrderId
from tradewire.domain.instruments import Instrument
from tradewire.domain.market import Quote
from tradewire.domain.reports import (
    ExecutionReport,
    FillReport,
    OrderStatusReport,
    PositionReport,
)
from tradewire.domain.throttle import RateLimit

ReportHandler = Callable[[ExecutionReport], None]
QuoteHandler = Callable[[Quote], None]
ConnectionHandler = Callable[[VenueId, bool], None]
"""Called with (venue, connected) whenever the adapter's connection goes up or down."""


class VenueCapabilities(msgspec.Struct, frozen=True, kw_only=True):
    order_types: frozenset[OrderType]
    time_in_force: frozenset[TimeInForce]
    modify: bool
    reduce_only: bool
    max_client_order_id_length: int
    expires_day_orders: bool = False
    """The venue ends DAY orders at its own close (and reports them expired); when False the engine
    cancels them at the instrument's session close (docs/sessions.md)."""
    rate_limits: tuple[RateLimit, ...] = ()
    """Request limits on order entry (submit, cancel, amend each cost 1); empty: none declared."""


class OrderRef(msgspec.Struct, frozen=True, kw_only=True):
    """What a venue needs to find one of our orders."""

    client_order_id: ClientOrderId
    venue_order_id: VenueOrderId | None
    account: AccountId
    instrument: InstrumentId


class VenueClient(Protocol):
    @property
    def venue(self) -> VenueId: ...

    @property
    def capabilities(self) -> VenueCapabilities: ...

    @property
    def connected(self) -> bool: ...

    def instruments(self) -> list[Instrument]:
        """Instruments this venue trades, with their rules."""
        ...

    async def connect(
        self,
        on_report: ReportHandler,
        on_quote: QuoteHandler,
        on_connection: ConnectionHandler,
    ) -> None:
        """Open the connection and start delivering reports, quotes and connection changes."""
        ...

    async def close(self) -> None: ...

    async def submit(self, order: OrderSpec) -> None: ...

    async def cancel(self, order: OrderRef) -> None: ...

    async def modify(
        self,
        order: OrderRef,
        quantity: Decimal,
        limit_price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None: ...

    async def order_status(self, client_order_id: ClientOrderId) -> OrderStatusReport | None: ...

    async def open_orders(self, account: AccountId | None = None) -> list[OrderStatusReport]: ...

    async def fills_since(self, since: datetime, account: AccountId | None = None) -> list[FillReport]: ...

    async def positions(self, account: AccountId | None = None) -> list[PositionReport]: ...
