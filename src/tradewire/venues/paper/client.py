"""The paper venue: a simulated broker behind `VenueClient`, with its own durable state.

The engine cannot tell it from a real venue: requests return at once and the answers arrive later
through `on_report` (the reports of one request or step together, in one loop callback); every
change is committed to the venue's SQLite file before its report is scheduled (with no file the
state lives in memory, see memory.py); while "disconnected" requests raise `VenueUnavailable` and
reports produced meanwhile are lost, so the engine has to reconcile through the query methods
exactly as with a real broker.
"""

import asyncio
import logging
import random
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import msgspec

from tradewire.domain.clock import Clock
from tradewire.domain.enums import TimeInForce, VenueOrderStatus
from tradewire.domain.errors import VenueBusy, VenueUnavailable
from tradewire.domain.events import OrderSpec
from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId, VenueId
from tradewire.domain.instruments import Instrument
from tradewire.domain.market import Quote
from tradewire.domain.reports import (
    ExecutionReport,
    FillReport,
    OrderStatusReport,
    PositionReport,
)
from tradewire.domain.values import ZERO
from tradewire.sessions import ALWAYS_OPEN, calendar_for
from tradewire.venues.paper import mapping
from tradewire.venues.paper.config import PaperVenueConfig
from tradewire.venues.paper.feed import open_feed
from tradewire.venues.paper.matching import (
    PaperOrder,
    check_amend,
    check_order,
    match_order,
    next_day_close,
)
from tradewire.venues.paper.store import PaperStore, open_store
from tradewire.venues.port import (
    ConnectionHandler,
    OrderRef,
    QuoteHandler,
    ReportHandler,
    VenueCapabilities,
)

logger = logging.getLogger(__name__)


def _listed(instrument: Instrument, sessions: bool) -> Instrument:
    """Without `sessions` the simulator trades around the clock, and says so in the calendar."""
    return instrument if sessions else msgspec.structs.replace(instrument, calendar=ALWAYS_OPEN)


_DAY = TimeInForce.DAY
_ORDER_COUNTER = "venue_order"
_FILL_COUNTER = "fill"
_SIMULATED_REJECT = "simulated reject"


class PaperVenue:
    """A `VenueClient` that simulates a broker. See the package docstring for the rules."""

    def __init__(self, config: PaperVenueConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._venue = VenueId(config.venue)
        self._instruments: dict[InstrumentId, Instrument] = {
            InstrumentId(s.instrument_id): _listed(s.to_instrument(self._venue), config.sessions)
            for s in config.all_instruments
        }
        self._capabilities = VenueCapabilities(
            order_types=config.order_types,
            time_in_force=config.time_in_force,
            modify=True,
            reduce_only=True,
            max_client_order_id_length=config.max_client_order_id_length,
            expires_day_orders=True,
        )
        self._store: PaperStore = open_store(config.path)
        self._feed = open_feed(config, self._instruments, clock.now(), self._store.feed_state())
        self._books = self._feed.books()
        self._working = {o.client_order_id: o for o in self._store.open_orders()}
        self._reject_random = random.Random(f"{config.seed}:rejects")  # noqa: S311 - a simulation
        self._rejects_at_random = config.reject_probability > 0
        self._busy_random = random.Random(f"{config.seed}:busy")  # noqa: S311 - a simulation
        self._busy_at_random = config.busy_probability > 0
        self._scripted_failures: deque[VenueUnavailable] = deque()
        self._steps = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_report: ReportHandler | None = None
        self._on_quote: QuoteHandler | None = None
        self._on_connection: ConnectionHandler | None = None
        self._outage = False
        self._unreachable = False
        self._closed = False
        self._outbox: deque[deque[ExecutionReport]] = deque()
        self._timers: deque[asyncio.Handle] = deque()
        self._feed_task: asyncio.Task[None] | None = None

    # --- VenueClient: identity and connection ------------------------------------------------

    @property
    def venue(self) -> VenueId:
        return self._venue

    @property
    def capabilities(self) -> VenueCapabilities:
        return self._capabilities

    @property
    def connected(self) -> bool:
        return self._on_report is not None and not self._outage and not self._closed

    def instruments(self) -> list[Instrument]:
        return list(self._instruments.values())

    async def connect(
        self,
        on_report: ReportHandler,
        on_quote: QuoteHandler,
        on_connection: ConnectionHandler,
    ) -> None:
        """Start delivering; in live mode also start stepping the feed every `tick_interval`."""
        if self._closed:
            raise VenueUnavailable("this paper venue was closed; open a new one on the same file")
        if self._on_report is not None and self._outage:
            # A reconnect attempt after a drop: it fails while a simulated outage lasts.
            if self._unreachable:
                raise VenueUnavailable(f"{self._venue} is unreachable (simulated outage)")
            self._on_report, self._on_quote, self._on_connection = on_report, on_quote, on_connection
            self.reconnect()
            return
        if self._on_report is not None:
            raise RuntimeError("the paper venue is already connected")
        self._loop = asyncio.get_running_loop()
        self._on_report, self._on_quote, self._on_connection = on_report, on_quote, on_connection
        on_connection(self._venue, True)
        if self._config.tick_interval is not None:
            self._feed_task = asyncio.create_task(
                self._run_feed(float(self._config.tick_interval)), name=f"{self._venue}-feed"
            )
            self._feed_task.add_done_callback(self._feed_stopped)

    async def close(self) -> None:
        """Stop the feed, drop undelivered reports and release the store (its data stays on disk)."""
        if self._closed:
            return
        self._closed = True
        if self._feed_task is not None:
            self._feed_task.cancel()
            await asyncio.gather(self._feed_task, return_exceptions=True)
        self._drop_undelivered()
        self._store.close()

    # --- fault injection -------------------------------------------------------------------------

    def simulate_disconnect(self) -> None:
        """Drop the connection: requests raise, undelivered and new reports are lost, queries raise.

        The venue keeps matching meanwhile, as a real broker would.
        """
        if not self.connected:
            return
        self._outage = True
        self._drop_undelivered()
        if self._on_connection is not None:
            self._on_connection(self._venue, False)

    def simulate_outage(self) -> None:
        """Drop the connection so that it cannot come back: `connect` (a reconnect attempt) raises
        `VenueUnavailable` until `end_outage()` or `reconnect()`. For failover tests."""
        self._unreachable = True
        self.simulate_disconnect()

    def end_outage(self) -> None:
        """The next reconnect attempt succeeds; the venue does not reconnect by itself."""
        self._unreachable = False

    def new_session(self) -> "PaperVenue":
        """Another session to the same accounts: a new client on the same venue file (a backup
        connection). The session it replaces must be closed first, as two would both match orders."""
        if self._config.path is None:
            raise ValueError(
                f"paper venue {self._venue} keeps its state in memory; a second session needs a `path`"
            )
        return PaperVenue(self._config, self._clock)

    def fail_next_requests(self, *errors: VenueUnavailable) -> None:
        """The next requests (submit, cancel, amend) raise these, one each, and the venue does not
        act on them: a busy venue (`VenueBusy`), a refusal (`VenueRefused`), bad credentials."""
        self._scripted_failures.extend(errors)

    def simulate_busy(self, requests: int, retry_after: float | None = None) -> None:
        """The next `requests` requests are refused as busy (rate limited) without being acted on."""
        busy = f"{self._venue} is busy (simulated rate limit)"
        self.fail_next_requests(*(VenueBusy(busy, retry_after) for _ in range(requests)))

    def reconnect(self) -> None:
        """End a simulated outage; the engine must now reconcile through the query methods."""
        if not self._outage or self._closed:
            return
        self._outage = False
        self._unreachable = False
        if self._on_connection is not None:
            self._on_connection(self._venue, True)

    # --- the market ----------------------------------------------------------------------------

    def current_quote(self, instrument: InstrumentId) -> Quote | None:
        """The top of the book now, net of the displayed size consumed since the last step."""
        book = self._books.get(instrument)
        return None if book is None else book.top()

    async def step(self, steps: int = 1) -> None:
        """Advance the feed `steps` times (manual mode, `tick_interval=None`); see `step_sync`."""
        for _ in range(steps):
            self.step_sync()

    def step_sync(self) -> list[Quote]:
        """One feed step: new quotes, DAY expiry, matching of working orders; returns the quotes."""
        self._require_open()
        self._steps += 1
        self._apply_disconnect_schedule()
        now = self._clock.now()
        changed_books = self._feed.step(now)
        self._books.update((book.instrument, book) for book in changed_books)
        changed: list[PaperOrder] = []
        fills: list[FillReport] = []
        reports: list[ExecutionReport] = []
        for order in sorted(self._working.values(), key=lambda o: o.sequence):
            after, order_fills = self._match(order, now, arriving=False)
            if after == order:
                continue
            changed.append(after)
            fills.extend(order_fills)
            reports.extend(order_fills)
            if (after.status, after.filled_quantity) != (order.status, order.filled_quantity):
                reports.append(mapping.status_report(after, self._venue))
        self._store.save(orders=changed, fills=fills, feed_state=self._feed.state())
        self._track(changed)
        self._schedule(reports)
        quotes = [quote for book in changed_books if (quote := book.top()) is not None]
        if self.connected and self._on_quote is not None:
            for quote in quotes:
                self._on_quote(quote)
        return quotes

    def _apply_disconnect_schedule(self) -> None:
        for window in self._config.disconnects:
            if self._steps == window.at_step:
                self.simulate_disconnect()
            elif self._steps == window.at_step + window.steps:
                self.reconnect()

    async def _run_feed(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.step_sync()

    def _feed_stopped(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        logger.error("the paper venue's feed stopped", exc_info=task.exception())
        self.simulate_disconnect()

    # --- VenueClient: requests ---------------------------------------------------------------

    async def submit(self, order: OrderSpec) -> None:
        self._require_connection()
        self._refuse_when_busy()
        self._schedule(self._submit(order))

    async def cancel(self, order: OrderRef) -> None:
        self._require_connection()
        self._refuse_when_busy()
        self._schedule(self._cancel(order))

    async def modify(
        self,
        order: OrderRef,
        quantity: Decimal,
        limit_price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        self._require_connection()
        self._refuse_when_busy()
        self._schedule(self._modify(order, quantity, limit_price, stop_price))

    def _submit(self, spec: OrderSpec) -> list[ExecutionReport]:
        now = self._clock.now()
        if self._store.knows(spec.client_order_id):
            return [mapping.duplicate_rejection(spec, self._venue, now)]
        rejection = self._rejection(spec)
        if rejection is not None:
            rejected = mapping.new_order(spec, venue_order=None, sequence=0, now=now, rejection=rejection)
            self._store.save(orders=[rejected])
            return [mapping.status_report(rejected, self._venue)]
        number = self._store.next_number(_ORDER_COUNTER)
        accepted = mapping.new_order(
            spec,
            venue_order=mapping.venue_order_id(number),
            sequence=number,
            now=now,
            expires_at=self._day_close(spec, now) if spec.time_in_force is _DAY else None,
        )
        return self._trade_now(accepted, now)

    def _day_close(self, spec: OrderSpec, now: datetime) -> datetime:
        """When a DAY order accepted now expires: its session's close with `sessions` on."""
        if self._config.sessions:
            return calendar_for(self._instruments[spec.instrument].calendar).next_close(now)
        return next_day_close(now, self._config.day_close_utc)

    def _trade_now(self, order: PaperOrder, now: datetime) -> list[ExecutionReport]:
        """Give a new or amended order its chance to trade on arrival, save, and report both states."""
        after, fills = self._match(order, now, arriving=True)
        self._store.save(orders=[after], fills=fills)
        self._track([after])
        reports: list[ExecutionReport] = [mapping.status_report(order, self._venue), *fills]
        if after.status is not order.status or after.filled_quantity != order.filled_quantity:
            reports.append(mapping.status_report(after, self._venue))
        return reports

    def _rejection(self, spec: OrderSpec) -> str | None:
        book = self._books.get(spec.instrument)
        reason = check_order(
            spec,
            self._instruments.get(spec.instrument),
            venue=self._venue,
            capabilities=self._capabilities,
            position=self._position(spec.account, spec.instrument) if spec.reduce_only else ZERO,
            reference_price=None if book is None else book.touch(spec.side),
        )
        if reason is None and self._rejects_at_random:
            draw = Decimal(self._reject_random.randrange(1_000_000)) / 1_000_000
            if draw < self._config.reject_probability:
                return _SIMULATED_REJECT
        return reason

    def _cancel(self, ref: OrderRef) -> list[ExecutionReport]:
        now = self._clock.now()
        order = self._working.get(ref.client_order_id)
        if order is None or order.account != ref.account:
            reason = self._not_working_reason(ref)
            return [mapping.cancel_reject(ref.client_order_id, reason, venue=self._venue, now=now)]
        canceled = msgspec.structs.replace(
            order, status=VenueOrderStatus.CANCELED, reason="canceled on request", ts_updated=now
        )
        self._store.save(orders=[canceled])
        self._track([canceled])
        return [mapping.status_report(canceled, self._venue)]

    def _modify(
        self,
        ref: OrderRef,
        quantity: Decimal,
        limit_price: Decimal | None,
        stop_price: Decimal | None,
    ) -> list[ExecutionReport]:
        now = self._clock.now()
        order = self._working.get(ref.client_order_id)
        if order is None or order.account != ref.account:
            reason: str | None = self._not_working_reason(ref)
        else:
            instrument = self._instruments[order.instrument]
            reason = check_amend(order, instrument, quantity, limit_price, stop_price)
        if order is None or reason is not None:
            reason = reason or "unknown order"
            return [
                mapping.cancel_reject(ref.client_order_id, reason, venue=self._venue, now=now, replace=True)
            ]
        amended = msgspec.structs.replace(
            order, quantity=quantity, limit_price=limit_price, stop_price=stop_price, ts_updated=now
        )
        # An amended order may now be marketable: it gets its chance to take, as on arrival.
        return self._trade_now(amended, now)

    def _not_working_reason(self, ref: OrderRef) -> str:
        stored = self._store.order(ref.client_order_id)
        if stored is None or stored.account != ref.account:
            return "unknown order"
        return f"the order is already {stored.status}"

    def _match(
        self, order: PaperOrder, now: datetime, *, arriving: bool
    ) -> tuple[PaperOrder, list[FillReport]]:
        """Match one order against the current book, consuming its displayed size."""
        instrument = self._instruments[order.instrument]
        result = match_order(order, self._books.get(order.instrument), instrument, now, arriving=arriving)
        if result.book is not None:
            self._books[order.instrument] = result.book
        fills = [
            mapping.fill_report(
                result.order,
                execution,
                fill=mapping.fill_id(self._store.next_number(_FILL_COUNTER)),
                instrument=instrument,
                venue=self._venue,
                now=now,
            )
            for execution in result.executions
        ]
        return result.order, fills

    def _track(self, orders: Iterable[PaperOrder]) -> None:
        for order in orders:
            if order.is_open:
                self._working[order.client_order_id] = order
            else:
                self._working.pop(order.client_order_id, None)

    def _position(self, account: AccountId, instrument: InstrumentId) -> Decimal:
        return self._store.position(account, instrument)

    # --- report delivery ---------------------------------------------------------------------

    def _schedule(self, reports: list[ExecutionReport]) -> None:
        """Deliver reports later, in order; while disconnected they are lost (state is already saved).

        The reports of one request or step (an ack and the fills it traded on arrival) travel
        together, as one message would: one loop callback delivers them all, never from inside the
        request. Each callback delivers the oldest batch left, so the order holds even when timers
        tie. With `latency_ms=0` the batch goes on the loop's ready queue rather than its timers.
        """
        loop = self._loop
        if not reports or not self.connected or loop is None:
            return
        self._outbox.append(deque(reports))
        delay = self._config.latency_ms / 1000
        handle = loop.call_later(delay, self._deliver_next) if delay else loop.call_soon(self._deliver_next)
        self._timers.append(handle)

    def _deliver_next(self) -> None:
        if self._timers:
            self._timers.popleft()
        if not self._outbox:
            return
        # The batch stays in the outbox while it is delivered: a disconnect raised by a report
        # handler empties it, and the rest of it is lost like any undelivered report.
        batch = self._outbox[0]
        while batch and self._on_report is not None:
            self._on_report(batch.popleft())
        if self._outbox and self._outbox[0] is batch:
            self._outbox.popleft()

    def _drop_undelivered(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for batch in self._outbox:
            batch.clear()
        self._outbox.clear()

    # --- VenueClient: queries ----------------------------------------------------------------

    async def order_status(self, client_order_id: ClientOrderId) -> OrderStatusReport | None:
        self._require_reachable()
        order = self._store.order(client_order_id)
        return None if order is None else mapping.status_report(order, self._venue)

    async def open_orders(self, account: AccountId | None = None) -> list[OrderStatusReport]:
        self._require_reachable()
        return [mapping.status_report(o, self._venue) for o in self._store.open_orders(account)]

    async def fills_since(self, since: datetime, account: AccountId | None = None) -> list[FillReport]:
        """Fills at or after `since`, oldest first."""
        self._require_reachable()
        return self._store.fills(since=since, account=account)

    async def positions(self, account: AccountId | None = None) -> list[PositionReport]:
        """Net positions from all fills, per account and instrument; flat ones are left out."""
        self._require_reachable()
        multipliers = {key: i.multiplier for key, i in self._instruments.items()}
        return mapping.position_reports(
            self._store.fills(account=account),
            multipliers,
            venue=self._venue,
            now=self._clock.now(),
        )

    # --- guards ------------------------------------------------------------------------------

    def _require_connection(self) -> None:
        if not self.connected:
            raise VenueUnavailable(f"{self._venue} is not connected; the request was not sent")

    def _refuse_when_busy(self) -> None:
        if self._scripted_failures:
            raise self._scripted_failures.popleft()
        if self._busy_at_random:
            draw = Decimal(self._busy_random.randrange(1_000_000)) / 1_000_000
            if draw < self._config.busy_probability:
                raise VenueBusy(f"{self._venue} is busy (simulated, busy_probability)")

    def _require_reachable(self) -> None:
        if self._outage or self._closed:
            raise VenueUnavailable(f"{self._venue} is not reachable")

    def _require_open(self) -> None:
        if self._closed:
            raise VenueUnavailable(f"{self._venue} was closed")
