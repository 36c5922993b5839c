"""The engine node: wires settings to the core and runs it on one event loop.

Start-up order matters for correctness: replay the journal into the ledger, open the journal for
writing, connect every venue, reconcile each one against its truth, and only then accept signals.
"""

import asyncio
import functools
import logging
from collections.abc import Coroutine, Mapping
from datetime import timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from tradewire.domain.clock import Clock, LiveClock
from tradewire.domain.enums import OrderStatus
from tradewire.domain.errors import VenueError
from tradewire.domain.ids import AccountId, StrategyId, VenueId
from tradewire.domain.instruments import Catalog
from tradewire.domain.market import QuoteBook
from tradewire.execution.allocation import Allocation
from tradewire.execution.routing import AccountConfig, Router
from tradewire.journal.sqlite import SqliteJournal
from tradewire.journal.store import JournalStore
from tradewire.oms.exposure import LedgerRiskView, TradingDay
from tradewire.oms.identifiers import IdGenerator
from tradewire.oms.ledger import CONFIG_FILE, Ledger
from tradewire.oms.manager import OrderManager, Probe, no_probe
from tradewire.oms.reconcile import ReconcilePolicy, reconcile_venue
from tradewire.risk.gate import RiskGate
from tradewire.runtime.lock import DataDirectoryLock
from tradewire.runtime.monitor import KillSwitchMonitor
from tradewire.runtime.probes import CrashProbe
from tradewire.runtime.settings import Settings
from tradewire.runtime.venues import build_venues
from tradewire.services.trading import TradingService
from tradewire.venues.port import VenueClient

log = logging.getLogger(__name__)

IN_FLIGHT_CHECK_INTERVAL = 1.0
IN_FLIGHT_TIMEOUT = timedelta(seconds=5)


class Engine:
    """One engine process's trading state and its connections. Use as an async context manager."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock | None = None,
        venues: Mapping[VenueId, VenueClient] | None = None,
        journal: JournalStore | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or LiveClock()
        self._venues = dict(venues) if venues is not None else None
        self._journal = journal
        self._tasks: set[asyncio.Task[None]] = set()
        self._manager: OrderManager | None = None
        self._service: TradingService | None = None
        self._closed = False
        self._disconnected: set[VenueId] = set()
        self.monitor: KillSwitchMonitor | None = None
        self._lock = DataDirectoryLock(settings.data_dir)

    @property
    def manager(self) -> OrderManager:
        if self._manager is None:
            raise RuntimeError("the engine is not started")
        return self._manager

    @property
    def service(self) -> TradingService:
        if self._service is None:
            raise RuntimeError("the engine is not started")
        return self._service

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        journal = self._journal or SqliteJournal(settings.journal_path, settings.journal.durability)
        ledger = Ledger()
        for _, record in journal.replay():
            ledger.apply(record)
        started_at = self.clock.now()
        if ledger.last_event_at is not None and ledger.last_event_at >= started_at:
            # IDs embed the start time; never reuse a stamp even if the clock went backwards.
            started_at = ledger.last_event_at + timedelta(milliseconds=1)
        log.info("replayed %d journal records", ledger.records_applied)
        venues = self._venues if self._venues is not None else build_venues(settings, self.clock)
        accounts = {
            AccountId(a.id): AccountConfig(
                account_id=AccountId(a.id), venue=VenueId(a.venue), currency=a.currency, crossing=a.crossing
            )
            for a in settings.accounts
        }
        quotes = QuoteBook()
        instruments = Catalog(i for v in venues.values() for i in v.instruments())
        probe: Probe = CrashProbe(settings.crash_at) if settings.crash_at else no_probe
        manager = OrderManager(
            ledger=ledger,
            journal=journal,
            venues=venues,
            instruments=instruments,
            quotes=quotes,
            router=Router(
                accounts,
                {StrategyId(s.id): AccountId(s.account) for s in settings.strategies if s.account},
                allocations_from(settings),
                catalog=instruments,
                quotes=quotes,
                connected=lambda venue: venue in venues and venues[venue].connected,
                venue_preference=settings.routing.venue_preference,
                best_price=settings.routing.best_price,
            ),
            risk=RiskGate(),
            view=LedgerRiskView(
                ledger=ledger,
                quotes=quotes,
                instruments=instruments,
                account_currencies={a.account_id: a.currency for a in accounts.values()},
                account_venues={a.account_id: a.venue for a in accounts.values()},
                base_currency=settings.risk.base_currency,
                equivalents=settings.risk.currency_equivalents,
            ),
            trading_day=TradingDay(settings.risk.trading_day_start, settings.risk.trading_day_timezone),
            ids=IdGenerator(started_at),
            clock=self.clock,
            off_grid_prices=settings.sizing.off_grid_prices,
            venue_timeout=settings.venue_timeout,
            probe=probe,
        )
        self._manager = manager
        policy = ReconcilePolicy(
            unknown_orders=settings.reconciliation.unknown_orders,
            position_tolerance=settings.reconciliation.position_tolerance,
        )
        self._service = TradingService(manager, accounts, started_at, policy)
        await journal.start()
        await self._apply_configured_limits()
        for venue_id, venue in venues.items():
            await venue.connect(
                manager.on_report, functools.partial(quotes.update, venue_id), self._on_connection
            )
        for venue_id in venues:
            await self.reconcile(venue_id, at_startup=True)
        self._spawn(self._check_in_flight(), "in-flight-check")
        self.monitor = KillSwitchMonitor(manager, settings.kill_switch, self.clock)
        self._spawn(self.monitor.run(), "kill-switch-monitor")
        if settings.reconcile_interval is not None:
            self._spawn(self._reconcile_periodically(settings.reconcile_interval), "periodic-reconciliation")

    async def _apply_configured_limits(self) -> None:
        """Limits from the config file, for each scope whose configured limits changed since they
        were last applied; limits changed at run time stay in force until then."""
        applied = self.manager.ledger.configured_limits
        for scope, limits in self.settings.risk.scoped().items():
            if applied.get(scope) != limits:
                await self.service.set_limits(scope, limits, CONFIG_FILE)

    async def reconcile(self, venue_id: VenueId, at_startup: bool = False) -> None:
        policy = self.service.reconcile_policy
        report = await reconcile_venue(self.manager, venue_id, at_startup=at_startup, policy=policy)
        self.service.record_reconciliations([report])

    def _on_connection(self, venue: VenueId, connected: bool) -> None:
        """After a reconnect, reports sent while we were away are lost: ask the venue."""
        if self.monitor is not None:
            self.monitor.venue_connection(venue, connected)
        if not connected:
            log.warning("venue %s disconnected", venue)
            self._disconnected.add(venue)
            return
        log.info("venue %s connected", venue)
        if venue in self._disconnected and self._service is not None and not self._closed:
            self._disconnected.discard(venue)
            self._spawn(self.reconcile(venue), f"reconcile-{venue}")

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("task %s failed", task.get_name(), exc_info=task.exception())

    async def _reconcile_periodically(self, interval: float) -> None:
        """A connection that looks healthy can still drop a report: ask every venue now and then."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.service.reconcile()
            except (TimeoutError, OSError, VenueError) as error:
                log.warning("periodic reconciliation failed: %r", error)

    async def _check_in_flight(self) -> None:
        """Ask the venue about orders that got no answer in time (lost ack, unknown submit)."""
        manager = self.manager
        while True:
            await asyncio.sleep(IN_FLIGHT_CHECK_INTERVAL)
            cutoff = self.clock.now() - IN_FLIGHT_TIMEOUT
            waiting = [
                o
                for o in manager.ledger.open_orders.values()
                if o.status in (OrderStatus.SUBMITTED, OrderStatus.PENDING_CANCEL) and o.updated_at < cutoff
            ]
            for order in waiting:
                venue = manager.venues[order.venue]
                if not venue.connected:
                    continue
                try:
                    async with asyncio.timeout(self.settings.venue_timeout):
                        report = await venue.order_status(order.client_order_id)
                except (TimeoutError, OSError) as error:
                    log.warning("in-flight check of %s failed: %r", order.client_order_id, error)
                    continue
                if report is not None:
                    manager.on_report(report, inferred=True)

    async def stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._manager is not None:
            for venue in self._manager.venues.values():
                await venue.close()
            await self._manager.journal.close()
        self._lock.release()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()


def allocations_from(settings: Settings) -> dict[StrategyId, Allocation]:
    capitals = {a.id: a.capital for a in settings.accounts}
    allocations = {}
    for strategy, rule in settings.allocations.items():
        weights = dict(rule.accounts)
        if rule.method == "capital":
            missing = [a for a in weights if capitals.get(a) is None]
            if missing:
                raise ValueError(
                    f"allocation of {strategy} is pro rata to capital, but {missing} have no capital"
                )
            weights = {a: capitals[a] or Decimal(0) for a in weights}
        allocations[StrategyId(strategy)] = Allocation(
            method=rule.method, accounts={AccountId(a): w for a, w in weights.items()}
        )
    return allocations
