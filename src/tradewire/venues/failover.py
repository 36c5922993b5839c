"""One venue reached through one of several connections: a primary and backups to the same account
(a second endpoint, session or API key). Adapter-agnostic: each connection is a factory that
builds a `VenueClient`.

`FailoverVenue` is itself a `VenueClient` that delegates to the active connection, so the engine
keeps talking to one object whichever connection carries it. Which connection is active, and when
to switch, is decided by the connectivity supervisor (`runtime/connectivity.py`); this module only
carries it out:
- a backup is built when it is first needed, and the connection left behind is closed (two live
  sessions of one account could both act on the same order);
- reports from any of its connections are passed on (each is the venue's truth, and the engine
  deduplicates them); quotes and connection changes only from the active one, so a dying session
  cannot mark the venue down after the switch.
"""

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

import msgspec

from tradewire.domain.errors import VenueError
from tradewire.domain.events import OrderSpec
from tradewire.domain.ids import AccountId, ClientOrderId, VenueId
from tradewire.domain.instruments import Instrument
from tradewire.domain.market import Quote
from tradewire.domain.reports import FillReport, OrderStatusReport, PositionReport
from tradewire.venues.port import (
    ConnectionHandler,
    OrderRef,
    QuoteHandler,
    ReportHandler,
    VenueCapabilities,
    VenueClient,
)

log = logging.getLogger(__name__)

PRIMARY = "primary"
"""The name of the first connection of every venue."""


class Connection(msgspec.Struct, frozen=True):
    """A named way to reach a venue; `open` builds a new, unconnected client each time it is called."""

    name: str
    open: Callable[[], VenueClient]


class _Handlers(msgspec.Struct, frozen=True):
    on_report: ReportHandler
    on_quote: QuoteHandler
    on_connection: ConnectionHandler


class FailoverVenue:
    """A `VenueClient` over one venue's connections, primary first."""

    def __init__(self, connections: Sequence[Connection], first: VenueClient | None = None) -> None:
        """`connections` are primary first; `first`, when given, is a client the primary's factory
        already built (it is used before the factory is called again)."""
        if not connections:
            raise ValueError("a venue needs at least one connection")
        names = [c.name for c in connections]
        if len(set(names)) != len(names):
            raise ValueError(f"connection names of one venue must differ: {names}")
        self._connections = list(connections)
        primary = first if first is not None else connections[0].open()
        self._venue = primary.venue
        self._instruments = primary.instruments()
        self._clients: dict[int, VenueClient] = {0: primary}
        self._active = 0
        self._handlers: _Handlers | None = None

    # --- which connection ---

    @property
    def client(self) -> VenueClient:
        """What the engine should hold: the connection itself when there is no backup to switch to
        (one object less on every call), else this wrapper."""
        return self if len(self._connections) > 1 else self._clients[0]

    @property
    def active(self) -> VenueClient:
        return self._client(self._active)

    @property
    def active_name(self) -> str:
        return self._connections[self._active].name

    @property
    def on_backup(self) -> bool:
        return self._active != 0

    @property
    def connection_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self._connections)

    def _client(self, index: int) -> VenueClient:
        client = self._clients.get(index)
        if client is None:
            client = self._connections[index].open()
            if client.venue != self._venue:
                raise ValueError(
                    f"backup connection {self._connections[index].name!r} reaches venue {client.venue}, "
                    f"not {self._venue}"
                )
            self._clients[index] = client
        return client

    async def switch_to_next(self) -> str:
        """Close the active connection and make the next one (wrapping to the primary) active; it is
        connected by `reconnect`. Returns its name."""
        leaving = self._clients.pop(self._active, None)
        self._active = (self._active + 1) % len(self._connections)
        if leaving is not None:
            try:
                await leaving.close()
            except (OSError, VenueError) as error:
                log.warning("closing connection of %s failed: %r", self._venue, error)
        return self.active_name

    async def reconnect(self) -> None:
        """Connect the active connection with the handlers given to `connect` (a fresh one, or one
        that dropped: adapters take `connect` again after a drop as a reconnect attempt)."""
        if self._handlers is None:
            raise RuntimeError(f"venue {self._venue} was never connected")
        client = self.active
        index = self._active
        handlers = self._handlers

        def on_quote(quote: Quote) -> None:
            if self._clients.get(self._active) is client:
                handlers.on_quote(quote)

        def on_connection(venue: VenueId, connected: bool) -> None:
            if self._active == index and self._clients.get(index) is client:
                handlers.on_connection(venue, connected)

        await client.connect(handlers.on_report, on_quote, on_connection)

    # --- VenueClient ---

    @property
    def venue(self) -> VenueId:
        return self._venue

    @property
    def capabilities(self) -> VenueCapabilities:
        return self.active.capabilities

    @property
    def connected(self) -> bool:
        client = self._clients.get(self._active)
        return client is not None and client.connected

    def instruments(self) -> list[Instrument]:
        return list(self._instruments)

    async def connect(
        self,
        on_report: ReportHandler,
        on_quote: QuoteHandler,
        on_connection: ConnectionHandler,
    ) -> None:
        self._handlers = _Handlers(on_report, on_quote, on_connection)
        await self.reconnect()

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()

    async def submit(self, order: OrderSpec) -> None:
        await self.active.submit(order)

    async def cancel(self, order: OrderRef) -> None:
        await self.active.cancel(order)

    async def modify(
        self,
        order: OrderRef,
        quantity: Decimal,
        limit_price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        await self.active.modify(order, quantity, limit_price, stop_price)

    async def order_status(self, client_order_id: ClientOrderId) -> OrderStatusReport | None:
        return await self.active.order_status(client_order_id)

    async def open_orders(self, account: AccountId | None = None) -> list[OrderStatusReport]:
        return await self.active.open_orders(account)

    async def fills_since(self, since: datetime, account: AccountId | None = None) -> list[FillReport]:
        return await self.active.fills_since(since, account)

    async def positions(self, account: AccountId | None = None) -> list[PositionReport]:
        return await self.active.positions(account)
