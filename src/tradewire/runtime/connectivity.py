"""The connectivity supervisor: owns each venue's connection and health (see `domain/health.py`).

- A dropped venue is DOWN and reconnected with exponential backoff and full jitter: before attempt
  n it waits a uniform share of min(cap, base * 2^(n-1)) seconds. A venue that comes back by itself
  (the adapter reconnected) ends the wait at once.
- After `max_attempts` failed attempts on one connection it fails over to the next connection of
  the venue (backups in order, then round to the primary again), whose attempts count from 1.
- After every (re)connect the venue is RECONCILING until `reconcile_venue` has completed on the
  connection that is up; only then do orders flow again (CONNECTED, or DEGRADED on a backup). A
  failed reconciliation is retried with the same backoff while the connection stays up.
- Every change of health or of the active connection is journaled (`VenueHealthChanged`) and
  logged; each attempt is logged.

The wait is an injectable `sleep` and the jitter an injectable `random.Random`, so tests see the
exact delays requested without waiting for them.
"""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from tradewire.domain import health
from tradewire.domain.clock import Clock
from tradewire.domain.errors import VenueError
from tradewire.domain.health import ORDERS_FLOW, VenueHealth, VenueHealthBoard, VenueStatus
from tradewire.domain.ids import VenueId
from tradewire.oms.reconcile import ReconciliationReport
from tradewire.runtime.settings_connectivity import ConnectivitySettings
from tradewire.venues.failover import FailoverVenue
from tradewire.venues.port import ConnectionHandler, QuoteHandler, ReportHandler

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[Any]]
Reconcile = Callable[[VenueId, bool], Awaitable[ReconciliationReport]]
"""Reconcile one venue (`at_startup` second) and keep its report; raises when the venue fails."""
HealthJournal = Callable[[VenueStatus], None]
"""Journal a change of health or active connection."""

_CONNECT_FAILURES = (VenueError, OSError, TimeoutError, ValueError)
"""What a failed connect attempt raises: venue I/O, or a backup that cannot be built (config)."""
_RECONCILE_FAILURES = (VenueError, OSError, TimeoutError)


class _Link:
    """The supervisor's working state for one venue."""

    def __init__(self, venue: FailoverVenue) -> None:
        self.venue = venue
        self.task: asyncio.Task[None] | None = None
        self.wake = asyncio.Event()
        self.pausing = False
        self.generation = 0
        """Counts connection changes; a reconciliation counts only if none happened meanwhile."""
        self.failures = 0
        """Failed connect attempts on the active connection since it was last up."""


class ConnectivitySupervisor:
    def __init__(
        self,
        venues: Mapping[VenueId, FailoverVenue],
        settings: ConnectivitySettings,
        *,
        clock: Clock,
        board: VenueHealthBoard,
        reconcile: Reconcile,
        journal: HealthJournal | None = None,
        on_connection: ConnectionHandler | None = None,
        sleep: Sleep = asyncio.sleep,
        jitter_random: random.Random | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        self._links = {venue_id: _Link(venue) for venue_id, venue in venues.items()}
        self._settings = settings
        self._clock = clock
        self.board = board
        self._reconcile_venue = reconcile
        self._journal = journal
        self._on_connection = on_connection
        self._sleep = sleep
        self._random = jitter_random or random.Random(settings.jitter_seed)  # noqa: S311 - jitter, not crypto
        self._connect_timeout = connect_timeout
        self._starting = False
        self._closed = False
        now = clock.now()
        for venue_id, link in self._links.items():
            board.set(health.not_connected(venue_id, link.venue.active_name, now))

    # --- reading ---

    def status(self, venue: VenueId) -> VenueStatus:
        status = self.board.get(venue)
        if status is None:
            raise KeyError(venue)
        return status

    def connection_names(self, venue: VenueId) -> tuple[str, ...]:
        return self._links[venue].venue.connection_names

    def delay(self, attempt: int) -> float:
        """Seconds to wait before connect attempt `attempt` (draws from the jitter's random)."""
        settings = self._settings
        return health.backoff_delay(
            attempt,
            base=settings.backoff_base,
            cap=settings.backoff_cap,
            jitter=settings.jitter,
            draw=self._random.random(),
        )

    # --- start and stop ---

    async def start(self, on_report: ReportHandler, quote_handler: Callable[[VenueId], QuoteHandler]) -> None:
        """Connect every venue on its primary and reconcile those that are up, as at start-up. A venue
        that cannot be reached or reconciled now stays DOWN or RECONCILING, and is recovered in the
        background: the engine starts without it and denies its orders meanwhile."""
        self._starting = True
        try:
            for venue_id, link in self._links.items():
                try:
                    async with asyncio.timeout(self._connect_timeout):
                        await link.venue.connect(on_report, quote_handler(venue_id), self.connection_changed)
                except _CONNECT_FAILURES as error:
                    log.error("venue %s: first connect failed: %r", venue_id, error)
                    link.failures = 1
                    self._set(health.reconnecting(self.status(venue_id), 2, self._clock.now(), _text(error)))
                else:
                    self._mark_up(link)
        finally:
            self._starting = False
        for link in self._links.values():
            if not (link.venue.connected and await self._reconcile(link)):
                self._ensure_recovering(link)

    async def close(self) -> None:
        self._closed = True
        tasks = [link.task for link in self._links.values() if link.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for link in self._links.values():
            await link.venue.close()

    # --- events from the venues and the engine ---

    def connection_changed(self, venue: VenueId, connected: bool) -> None:
        """The `ConnectionHandler` every venue gets: a drop starts the recovery, an up moves to
        RECONCILING (and ends a backoff wait early)."""
        if self._on_connection is not None:
            self._on_connection(venue, connected)
        link = self._links.get(venue)
        if link is None or self._closed:
            return
        if connected:
            self._mark_up(link)
        else:
            link.generation += 1
            log.warning("venue %s: connection %s lost", venue, link.venue.active_name)
            self._set(health.connection_lost(self.status(venue), self._clock.now()))
        if not self._starting:
            self._ensure_recovering(link)

    def note_timeout(self, venue: VenueId) -> None:
        """A venue request timed out; enough in a row make a connected venue DEGRADED."""
        if venue in self._links:
            limit = self._settings.degraded_after_timeouts
            self._set(health.request_timed_out(self.status(venue), self._clock.now(), limit))

    def note_answer(self, venue: VenueId) -> None:
        """A venue request was answered: the run of timeouts is over."""
        if venue in self._links:
            limit = self._settings.degraded_after_timeouts
            self._set(health.request_answered(self.status(venue), self._clock.now(), limit))

    async def reconcile_ready(self) -> list[ReconciliationReport]:
        """Reconcile every venue that takes orders now (the periodic and on-demand check). A failure
        marks the venue DEGRADED; a success clears that. Venues still recovering are skipped: their
        own reconciliation is under way."""
        reports = []
        for link in self._links.values():
            if link.venue.connected and self.status(link.venue.venue).accepts_orders:
                report = await self._reconcile(link)
                if report is not None:
                    reports.append(report)
        return reports

    # --- recovery ---

    def _mark_up(self, link: _Link) -> None:
        venue = link.venue.venue
        if self.status(venue).health is VenueHealth.DOWN:
            link.generation += 1
            link.failures = 0
            log.info("venue %s: connected on %s; reconciling", venue, link.venue.active_name)
            self._set(health.connection_up(self.status(venue), self._clock.now()))

    def _ensure_recovering(self, link: _Link) -> None:
        if self._closed:
            return
        if link.task is None or link.task.done():
            link.task = asyncio.get_running_loop().create_task(
                self._recover(link), name=f"connectivity-{link.venue.venue}"
            )
            link.task.add_done_callback(_log_failure)
        elif link.pausing:
            link.wake.set()

    async def _recover(self, link: _Link) -> None:
        """Until the venue takes orders again: reconnect (failing over), then reconcile."""
        reconcile_failures = 0
        while not self._closed:
            if not link.venue.connected:
                await self._reconnect(link)
                continue
            if self.status(link.venue.venue).health in ORDERS_FLOW:
                return
            if await self._reconcile(link) is not None:
                return
            if link.venue.connected:
                reconcile_failures += 1
                await self._pause(link, self.delay(reconcile_failures))

    async def _reconnect(self, link: _Link) -> None:
        venue = link.venue
        last_error: str | None = None
        while not venue.connected and not self._closed:
            if link.failures >= self._settings.max_attempts and len(venue.connection_names) > 1:
                failed, leaving = link.failures, venue.active_name
                link.failures, last_error = 0, None
                name = await venue.switch_to_next()
                log.error(
                    "venue %s: %s failed %d attempts; failing over to %s", venue.venue, leaving, failed, name
                )
                self._set(
                    health.failed_over(
                        self.status(venue.venue), name, venue.on_backup, failed, self._clock.now()
                    )
                )
            attempt = link.failures + 1
            self._set(health.reconnecting(self.status(venue.venue), attempt, self._clock.now(), last_error))
            wait = self.delay(attempt)
            log.info(
                "venue %s: reconnect attempt %d on %s in %.3fs", venue.venue, attempt, venue.active_name, wait
            )
            await self._pause(link, wait)
            if _is_up(venue):
                break  # it came back by itself
            try:
                async with asyncio.timeout(self._connect_timeout):
                    await venue.reconnect()
            except _CONNECT_FAILURES as error:
                link.failures += 1
                last_error = _text(error)
                log.warning("venue %s: reconnect attempt %d failed: %s", venue.venue, attempt, last_error)
                continue
            if not _is_up(venue):
                link.failures += 1
                last_error = "connect returned but the connection is not up"
        if venue.connected:
            self._mark_up(link)  # for adapters that do not announce a connect they were asked for

    async def _reconcile(self, link: _Link) -> ReconciliationReport | None:
        """Reconcile the venue; its health follows the outcome. None when it failed, or when the
        connection changed meanwhile (the result would describe a connection that is gone)."""
        venue = link.venue.venue
        generation = link.generation
        at_startup = not self.status(venue).reconciled
        try:
            report = await self._reconcile_venue(venue, at_startup)
        except _RECONCILE_FAILURES as error:
            log.warning("venue %s: reconciliation failed: %s", venue, _text(error))
            self._set(health.reconciliation_error(self.status(venue), _text(error), self._clock.now()))
            return None
        if link.generation != generation or not link.venue.connected:
            return None
        limit = self._settings.degraded_after_timeouts
        self._set(
            health.reconciled(
                self.status(venue), self._clock.now(), clean=report.clean, degraded_after_timeouts=limit
            )
        )
        return report

    async def _pause(self, link: _Link, seconds: float) -> None:
        """Wait `seconds`, or less if the venue comes back meanwhile."""
        link.wake.clear()
        link.pausing = True
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waker = asyncio.ensure_future(link.wake.wait())
        try:
            await asyncio.wait((sleeper, waker), return_when=asyncio.FIRST_COMPLETED)
        finally:
            link.pausing = False
            sleeper.cancel()
            waker.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)

    def _set(self, status: VenueStatus) -> None:
        before = self.board.get(status.venue)
        if before == status:
            return
        self.board.set(status)
        if before is not None and (before.health, before.connection) == (status.health, status.connection):
            return
        calm = status.health in (VenueHealth.CONNECTED, VenueHealth.RECONCILING)
        level = logging.INFO if calm else logging.WARNING
        log.log(
            level, "venue %s is %s on %s: %s", status.venue, status.health, status.connection, status.reason
        )
        if self._journal is not None:
            self._journal(status)


def _is_up(venue: FailoverVenue) -> bool:
    """Asked afresh after every await (a connection changes while we wait)."""
    return venue.connected


def _text(error: BaseException) -> str:
    return str(error) or type(error).__name__


def _log_failure(task: "asyncio.Task[None]") -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("task %s failed", task.get_name(), exc_info=task.exception())
