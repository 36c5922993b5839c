"""What one `CcxtVenue` knows about orders, and ccxt's order and trade dicts as reports with that knowledge.

An order is known by our client order ID; the exchange's ID is learned from its answers and kept
beside it, so a later update that names only the exchange's ID (or, like a Binance cancel answer,
carries the cancel request's own ID in `clientOrderId`) is still attributed to our order.

The same order state reaches us several times (the REST answer, the user-data stream, a repeated
push after a reconnect); `is_news` lets a state through once and never lets an older one through
after a newer one (less filled, or open again after a final state), so the engine sees one
monotonic story per order. Fills are let through once per venue fill ID.
"""

import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradewire.domain.clock import Clock
from tradewire.domain.enums import VENUE_TERMINAL_STATUSES, VenueOrderStatus
from tradewire.domain.events import OrderSpec
from tradewire.domain.ids import AccountId, ClientOrderId, FillId, InstrumentId, VenueId
from tradewire.domain.instruments import Instrument
from tradewire.domain.reports import FillReport, OrderStatusReport
from tradewire.venues.ccxt import mapping
from tradewire.venues.ccxt.exchanges import ExchangeProfile

logger = logging.getLogger(__name__)

REMEMBERED_FILLS = 50_000
"""Fill IDs remembered for deduplication (the engine deduplicates too; this keeps the stream quiet)."""

_StateKey = tuple[VenueOrderStatus, Decimal, Decimal, Decimal | None, Decimal | None]


@dataclass(slots=True)
class Known:
    """An order this adapter sent or found: enough to address it again."""

    symbol: str
    spec: OrderSpec | None = None
    venue_order_id: str | None = None


class OrderIndex:
    def __init__(
        self,
        *,
        venue: VenueId,
        account: AccountId,
        profile: ExchangeProfile,
        symbols: Mapping[InstrumentId, str],
        clock: Clock,
    ) -> None:
        self._venue = venue
        self._account = account
        self._profile = profile
        self._clock = clock
        self.symbols = dict(symbols)
        self.instrument_ids = {symbol: instrument for instrument, symbol in self.symbols.items()}
        self.instruments: dict[InstrumentId, Instrument] = {}
        self.known: dict[ClientOrderId, Known] = {}
        self._by_venue_order: dict[str, ClientOrderId] = {}
        self._states: dict[ClientOrderId, _StateKey] = {}
        self.refused: dict[ClientOrderId, OrderStatusReport] = {}
        """Orders refused before any order existed under their client ID (by us, or by the exchange)."""
        self._fills: OrderedDict[FillId, None] = OrderedDict()

    # --- identity --------------------------------------------------------------------------------------

    def remember(self, spec: OrderSpec, symbol: str) -> bool:
        """Note an order about to be sent; False when this client order ID was already used."""
        if spec.client_order_id in self.known:
            return False
        self.known[spec.client_order_id] = Known(symbol=symbol, spec=spec)
        return True

    def client_order_id_of(self, order: Mapping[str, Any]) -> ClientOrderId | None:
        venue_order = order.get("id")
        if venue_order and str(venue_order) in self._by_venue_order:
            return self._by_venue_order[str(venue_order)]
        wire = order.get("clientOrderId")
        if wire:
            return mapping.decode_client_order_id(str(wire), self._profile.client_id)
        return None

    # --- orders ----------------------------------------------------------------------------------------

    def order_report(
        self,
        order: Mapping[str, Any],
        *,
        sent: OrderSpec | None = None,
        client_order_id: ClientOrderId | None = None,
    ) -> OrderStatusReport | None:
        """The venue's word on one order as our report; None for a symbol this venue does not trade."""
        instrument = self.instrument_ids.get(str(order.get("symbol")))
        if sent is not None:
            instrument, client_order_id = sent.instrument, sent.client_order_id
        client_order_id = client_order_id or self.client_order_id_of(order)
        if instrument is None:
            return None
        if client_order_id is None:
            # Placed outside this engine without a client ID: named by the venue's ID so reconciliation
            # can adopt or cancel it.
            client_order_id = ClientOrderId(str(order.get("id")))
        known = self.known.setdefault(client_order_id, Known(symbol=self.symbols[instrument]))
        if order.get("id"):
            known.venue_order_id = str(order["id"])
            self._by_venue_order[known.venue_order_id] = client_order_id
        return mapping.status_report(
            order,
            venue=self._venue,
            account=self._account,
            client_order_id=client_order_id,
            instrument=instrument,
            now=self._clock.now(),
            sent=sent or known.spec,
        )

    def is_news(self, report: OrderStatusReport) -> bool:
        """Whether to deliver this state: not seen before, and not older than one already delivered."""
        key: _StateKey = (
            report.status,
            report.filled_quantity,
            report.quantity,
            report.limit_price,
            report.stop_price,
        )
        last = self._states.get(report.client_order_id)
        if last is not None:
            if key == last or report.filled_quantity < last[1]:
                return False
            if last[0] in VENUE_TERMINAL_STATUSES and report.status not in VENUE_TERMINAL_STATUSES:
                return False
        self._states[report.client_order_id] = key
        return True

    # --- fills -----------------------------------------------------------------------------------------

    def fill_report(self, trade: Mapping[str, Any], owner: ClientOrderId) -> FillReport | None:
        instrument = self.instrument_ids.get(str(trade.get("symbol")))
        if instrument is None:
            return None
        try:
            return mapping.fill_report(
                trade,
                venue=self._venue,
                account=self._account,
                client_order_id=owner,
                instrument=instrument,
                quote_currency=self.instruments[instrument].quote_currency,
                now=self._clock.now(),
            )
        except ValueError as error:
            logger.error("%s: malformed trade skipped: %s", self._venue, error)
            return None

    def new_fills(self, fills: Iterable[FillReport]) -> list[FillReport]:
        """The fills not delivered before (by venue fill ID), remembering them."""
        fresh = []
        for fill in fills:
            if fill.fill_id in self._fills:
                continue
            self._fills[fill.fill_id] = None
            if len(self._fills) > REMEMBERED_FILLS:
                self._fills.popitem(last=False)
            fresh.append(fill)
        return fresh


def trades_of_order(order: Mapping[str, Any], *, symbol: str) -> list[dict[str, Any]]:
    """The trades a create's answer carries (Binance lists the fills on arrival in it), completed with
    what the answer says once for all of them (side, order ID, time), which ccxt leaves out of each.
    A fill on arrival took liquidity: it is a taker fill."""
    completed = []
    for trade in order.get("trades") or []:
        filled_in = dict(trade)
        for key, value in (
            ("symbol", order.get("symbol") or symbol),
            ("side", order.get("side")),
            ("order", order.get("id")),
            ("timestamp", order.get("lastTradeTimestamp") or order.get("timestamp")),
            ("takerOrMaker", "taker"),
        ):
            if filled_in.get(key) is None:
                filled_in[key] = value
        completed.append(filled_in)
    return completed
