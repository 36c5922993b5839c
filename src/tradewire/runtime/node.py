"""The engine node: wires settings to the core and runs it on one event loop.

Start-up order matters for correctness: replay the journal into the ledger, open the journal for
writing, connect every venue, reconcile each one against its truth, and only then accept signals.
Connections are owned by the connectivity supervisor (`runtime/connectivity.py`): it reconnects,
fails over, reconciles after every reconnect, and keeps the venue health the risk gate reads.
"""

import asyncio
import functools
import logging
import random
from collections.abc import Coroutine, Mapping
from datetime import timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from tradewire.domain.clock import Clock, LiveClock
from tradewire.domain.enums import CANCELABLE_STATUSES
from tradewire.domain.errors import VenueUnavailable
from tradewire.domain.events import VenueHealthChanged
from tradewire.domain.health import VenueHealthBoard, VenueStatus
from tradewire.domain.ids import AccountId, StrategyId, VenueId
from tradewire.domain.instruments import Catalog
from tradewire.domain.market import QuoteBook
from tradewire.domain.orders import Order
from tradewire.execution.allocation import Allocation
from tradewire.execution.routing import AccountConfig, Router
from tradewire.journal.backends import open_journal
from tradewire.journal.store import JournalStore
from tradewire.oms.exposure import LedgerRiskView, TradingDay
from tradewire.oms.identifiers import IdGenerator
from tradewire.oms.inflight import AWAITING_ANSWER, settle_unanswered
from tradewire.oms.ledger import CONFIG_FILE, Ledger
from tradewire.oms.manager import OrderManager, Probe, no_probe
from tradewire.oms.reconcile import ReconcilePolicy, ReconciliationReport, reconcile_venue
from tradewire.risk.gate import RiskGate
from tradewire.runtime.connectivity import ConnectivitySupervisor, Sleep
from tradewire.runtime.lock import DataDirectoryLock
from tradewire.runtime.monitor import KillSwitchMonitor
from tradewire.runtime.probes import CrashProbe
from tradewire.runtime.sessions import SessionScheduler
from tradewire.runtime.settings import Settings
from tradewire.runtime.venue_requests import RateBudgets, build_rate_budgets
from tradewire.runtime.venues import build_venues, venue_connections
from tradewire.services.trading import TradingService
from tradewire.venues.port import VenueClient

log = logging.getLogger(__name__)

IN_FLIGHT_CHECK_INTERVAL = 1.0
IN_FLIGHT_TIMEOUT = timedelta(seconds=5)
IN_FLIGHT_CHECK = "in-flight check"
"""Who asked, on a cancel the in-flight check sends again."""


class Engine:
    """One engine process's trading state and its connections. Use as an async context manager."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock | None = None,
        venues: Mapping[VenueId, VenueClient] | None = None,
        journal: JournalStore | None = None,
        *,
        backoff_sleep: Sleep | None = None,
        jitter_random: random.Random | None = None,
    ) -> None:
        """`backoff_sleep` and `jitter_random` replace the reconnect waits and their jitter (tests)."""
        self.settings = settings
        self.clock = clock or LiveClock()
        self._venues = dict(venues) if venues is not None else None
        self._journal = journal
        self._tasks: set[asyncio.Task[None]] = set()
        self._manager: OrderManager | None = None
        self._service: TradingService | None = None
        self._closed = False
        self._backoff_sleep = backoff_sleep or asyncio.sleep
        self._jitter_random = jitter_random
        self.venue_health = VenueHealthBoard()
        self.connectivity: ConnectivitySupervisor | None = None
        self.monitor: KillSwitchMonitor | None = None
        self.sessions: SessionScheduler | None = None
        self._lock = DataDirectoryLock(settings.data_dir)
        self._budgets: RateBudgets | None = None
        self._in_flight_lock = asyncio.Lock()

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
        journal = self._journal or open_journal(
            settings.journal.backend, settings.journal_path, settings.journal.durability
        )
        ledger = Ledger()
        ledger.replay(journal.replay())
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
        connections = venue_connections(settings, venues)
        clients = {venue_id: connection.client for venue_id, connection in connections.items()}
        quotes = QuoteBook()
        instruments = Catalog(i for v in venues.values() for i in v.instruments())
        probe: Probe = CrashProbe(settings.crash_at) if settings.crash_at else no_probe
        self._budgets = build_rate_budgets(settings.venue_requests.rate_budget, venues)
        manager = OrderManager(
            ledger=ledger,
            journal=journal,
            venues=clients,
            instruments=instruments,
            quotes=quotes,
            router=Router(
                accounts,
                {StrategyId(s.id): AccountId(s.account) for s in settings.strategies if s.account},
                allocations_from(settings),
                catalog=instruments,
                quotes=quotes,
                connected=lambda venue: venue in venues and self.venue_health.accepts_orders(venue),
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
                venue_health=self.venue_health,
                sessions=settings.sessions.policy(),
            ),
            trading_day=TradingDay(settings.risk.trading_day_start, settings.risk.trading_day_timezone),
            ids=IdGenerator(started_at),
            clock=self.clock,
            off_grid_prices=settings.sizing.off_grid_prices,
            venue_timeout=settings.venue_timeout,
            probe=probe,
            retries=settings.venue_requests.retries.policy(),
            rate_budgets=self._budgets.by_venue,
        )
        self._manager = manager
        policy = ReconcilePolicy(
            unknown_orders=settings.reconciliation.unknown_orders,
            position_tolerance=settings.reconciliation.position_tolerance,
        )
        self._service = TradingService(manager, accounts, started_at, policy, venue_health=self.venue_health)
        await journal.start()
        await self._apply_configured_limits()
        self.connectivity = ConnectivitySupervisor(
            connections,
            settings.connectivity,
            clock=self.clock,
            board=self.venue_health,
            reconcile=self.reconcile,
            journal=self._journal_health,
            on_connection=self._on_connection,
            sleep=self._backoff_sleep,
            jitter_random=self._jitter_random,
            connect_timeout=settings.venue_timeout,
        )
        await self.connectivity.start(
            manager.on_report, lambda venue_id: functools.partial(quotes.update, venue_id)
        )
        self._spawn(self._check_in_flight(), "in-flight-check")
        self.monitor = KillSwitchMonitor(manager, settings.kill_switch, self.clock)
        self._spawn(self.monitor.run(), "kill-switch-monitor")
        if settings.sessions.enforce:
            self.sessions = SessionScheduler(manager, settings.sessions.policy(), self.clock)
            self.sessions.prepare()
            self._spawn(self.sessions.run(settings.sessions.check_interval), "session-scheduler")
        if settings.reconcile_interval is not None:
            self._spawn(self._reconcile_periodically(settings.reconcile_interval), "periodic-reconciliation")

    async def _apply_configured_limits(self) -> None:
        """Limits from the config file, for each scope whose configured limits changed since they
        were last applied; limits changed at run time stay in force until then."""
        applied = self.manager.ledger.configured_limits
        for scope, limits in self.settings.risk.scoped().items():
            if applied.get(scope) != limits:
                await self.service.set_limits(scope, limits, CONFIG_FILE)

    async def reconcile(self, venue_id: VenueId, at_startup: bool = False) -> ReconciliationReport:
        policy = self.service.reconcile_policy
        report = await reconcile_venue(self.manager, venue_id, at_startup=at_startup, policy=policy)
        self.service.record_reconciliations([report])
        return report

    def _journal_health(self, status: VenueStatus) -> None:
        manager = self.manager
        manager.record(
            VenueHealthChanged(
                **manager.stamp(),
                venue=status.venue,
                health=status.health,
                connection=status.connection,
                attempt=status.attempt,
                reason=status.reason,
            )
        )

    def _on_connection(self, venue: VenueId, connected: bool) -> None:
        """The kill switch's venue-down timer; reconnecting and reconciling is the supervisor's."""
        if self.monitor is not None:
            self.monitor.venue_connection(venue, connected)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("task %s failed", task.get_name(), exc_info=task.exception())

    async def _reconcile_periodically(self, interval: float) -> None:
        """A connection that looks healthy can still drop a report: ask every venue now and then.
        A venue whose reconciliation fails is marked degraded (see `runtime/connectivity.py`)."""
        while True:
            await asyncio.sleep(interval)
            if self.connectivity is not None:
                await self.connectivity.reconcile_ready()

    @property
    def in_flight_timeout(self) -> timedelta:
        """How long a request may go unanswered before the in-flight check settles it: at least
        one venue timeout more than a request of ours can itself take."""
        return max(IN_FLIGHT_TIMEOUT, timedelta(seconds=self.settings.venue_timeout + 1))

    async def _check_in_flight(self) -> None:
        """Every second, settle the orders that got no answer in time (lost ack, unknown outcome)."""
        while True:
            await asyncio.sleep(IN_FLIGHT_CHECK_INTERVAL)
            await self.check_in_flight_once()

    async def check_in_flight_once(self) -> None:
        """One pass of the in-flight check: ask the venue about every order unanswered for longer
        than `in_flight_timeout`, apply what it says, and settle what it shows no trace of
        (`oms/inflight.py`). Never resends a submit or an amend; a cancel is sent again."""
        async with self._in_flight_lock:
            manager = self.manager
            threshold = self.in_flight_timeout
            cutoff = self.clock.now() - threshold
            waiting = [
                o
                for o in manager.ledger.open_orders.values()
                if o.status in AWAITING_ANSWER
                and o.updated_at < cutoff
                and o.client_order_id not in manager.ledger.held
            ]
            for order in waiting:
                await self._settle_in_flight(order, threshold)

    async def _settle_in_flight(self, order: Order, threshold: timedelta) -> None:
        manager = self.manager
        venue = manager.venues[order.venue]
        if not venue.connected:
            return
        last_change = order.updated_at
        try:
            async with asyncio.timeout(self.settings.venue_timeout):
                report = await venue.order_status(order.client_order_id)
        except (TimeoutError, OSError, VenueUnavailable) as error:
            log.warning("in-flight check of %s failed: %r", order.client_order_id, error)
            if isinstance(error, TimeoutError) and self.connectivity is not None:
                self.connectivity.note_timeout(order.venue)
            return
        if self.connectivity is not None:
            self.connectivity.note_answer(order.venue)
        if order.updated_at != last_change:
            return  # answered (or asked again) while we asked: the next pass looks afresh
        if report is not None:
            manager.on_report(report, inferred=True)
        verdict = settle_unanswered(order, report, threshold, manager.stamp)
        for event in verdict.events:
            log.warning("in-flight check: order %s: %s", order.client_order_id, event.reason)
            manager.record(event)
        if verdict.cancel_again and order.status in CANCELABLE_STATUSES:
            await manager.cancel(order.client_order_id, IN_FLIGHT_CHECK)
        await manager.journal.flush()

    async def stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.connectivity is not None:
            await self.connectivity.close()  # every connection of every venue
        elif self._manager is not None:
            for venue in self._manager.venues.values():
                await venue.close()
        if self._manager is not None:
            await self._manager.journal.close()
        if self._budgets is not None:
            await self._budgets.close()
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
