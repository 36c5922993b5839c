"""Venue health: whether orders may go to a venue now, and why not.

The states, in the order a reconnect walks through them:
- DOWN: no usable connection. The engine is reconnecting (`attempt` counts the attempts on the
  active connection) or failing over to a backup connection. Orders are denied.
- RECONCILING: a connection is up again (or for the first time), but what happened while we were
  away is not known yet. Orders are denied until reconciliation has applied every lost fill and
  status, because an order sized against a stale position could double it.
- CONNECTED: connected on the primary connection and reconciled since it (re)connected.
- DEGRADED: connected and reconciled since it (re)connected, so orders flow, but something is off:
  it runs on a backup connection, or the last periodic reconciliation failed, or requests have
  timed out `timeouts` times in a row. People should look; the engine keeps trading.

Everything here is pure: the supervisor in `runtime/connectivity.py` does the I/O and moves a
`VenueStatus` through these functions, and the risk gate reads the result.
"""

from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum

import msgspec

from tradewire.domain.ids import VenueId


class VenueHealth(StrEnum):
    CONNECTED = "connected"
    RECONCILING = "reconciling"
    DEGRADED = "degraded"
    DOWN = "down"


ORDERS_FLOW = frozenset({VenueHealth.CONNECTED, VenueHealth.DEGRADED})
"""The states in which new orders may be sent to the venue."""


class VenueStatus(msgspec.Struct, frozen=True, kw_only=True):
    """One venue's health and the facts behind it, as the API shows it."""

    venue: VenueId
    health: VenueHealth
    connection: str
    """Name of the active connection: `primary`, or the name of a backup."""
    on_backup: bool = False
    attempt: int = 0
    """While DOWN: the reconnect attempt under way or next, on the active connection (1 = first)."""
    since: datetime
    """When `health` or the active connection last changed."""
    reason: str
    """Why the venue is in this state, for people."""
    reconciled: bool = False
    """Reconciled at least once since the engine started (the first one runs as at start-up)."""
    last_reconciliation: str | None = None
    """How the last reconciliation went: `clean`, `differences found`, or `failed: <error>`."""
    last_reconciled_at: datetime | None = None
    reconciliation_failed: bool = False
    """The last reconciliation (after a reconnect, periodic or on demand) failed."""
    timeouts: int = 0
    """Venue requests that timed out in a row; reset by any answer."""

    @property
    def accepts_orders(self) -> bool:
        return self.health in ORDERS_FLOW

    def refusal(self) -> str | None:
        """Why a new order to this venue is refused now, or None when orders flow."""
        venue = self.venue
        if self.health is VenueHealth.RECONCILING:
            return f"venue {venue} is reconciling after it connected; orders resume after it reconciles"
        if self.health is not VenueHealth.DOWN:
            return None
        if self.attempt == 0:
            return f"venue {venue} is not connected yet; orders resume after it connects and reconciles"
        via = f" on backup connection {self.connection}" if self.on_backup else ""
        return (
            f"venue {venue} is reconnecting (attempt {self.attempt}{via}); orders resume after it reconciles"
        )


def _moved(status: VenueStatus, now: datetime, **changes: object) -> VenueStatus:
    """A new status; `since` moves only when the health or the active connection changes."""
    changed = msgspec.structs.replace(status, **changes)
    if (changed.health, changed.connection) != (status.health, status.connection):
        changed = msgspec.structs.replace(changed, since=now)
    return changed


def not_connected(venue: VenueId, connection: str, now: datetime) -> VenueStatus:
    """A venue before its first connect."""
    return VenueStatus(
        venue=venue, health=VenueHealth.DOWN, connection=connection, since=now, reason="not connected yet"
    )


def connection_lost(status: VenueStatus, now: datetime) -> VenueStatus:
    """The active connection dropped: reconnecting, first attempt next."""
    return _moved(
        status,
        now,
        health=VenueHealth.DOWN,
        attempt=1,
        reason=f"connection {status.connection} lost; reconnecting",
    )


def reconnecting(status: VenueStatus, attempt: int, now: datetime, last_error: str | None) -> VenueStatus:
    """Waiting for (or making) reconnect attempt `attempt`; `last_error` is why the previous failed."""
    reason = f"reconnecting on connection {status.connection}, attempt {attempt}"
    if last_error is not None:
        reason += f" (attempt {attempt - 1} failed: {last_error})"
    return _moved(status, now, health=VenueHealth.DOWN, attempt=attempt, reason=reason)


def failed_over(
    status: VenueStatus, connection: str, on_backup: bool, failed_attempts: int, now: datetime
) -> VenueStatus:
    """The active connection could not come back in `failed_attempts` attempts; switched to another."""
    return _moved(
        status,
        now,
        health=VenueHealth.DOWN,
        connection=connection,
        on_backup=on_backup,
        attempt=1,
        reason=(
            f"connection {status.connection} failed {failed_attempts} reconnect attempts; "
            f"failing over to {connection}"
        ),
    )


def connection_up(status: VenueStatus, now: datetime) -> VenueStatus:
    """A connection is up: orders wait for reconciliation."""
    return _moved(
        status,
        now,
        health=VenueHealth.RECONCILING,
        attempt=0,
        timeouts=0,
        reason=f"connected on {status.connection}; reconciling before orders flow",
    )


def _settled_health(status: VenueStatus, degraded_after_timeouts: int) -> tuple[VenueHealth, str]:
    """The health of a connected, reconciled venue."""
    if status.reconciliation_failed:
        return VenueHealth.DEGRADED, f"the last reconciliation {status.last_reconciliation}"
    if status.on_backup:
        return VenueHealth.DEGRADED, f"running on backup connection {status.connection}"
    if status.timeouts >= degraded_after_timeouts:
        return VenueHealth.DEGRADED, f"{status.timeouts} venue requests timed out in a row"
    return VenueHealth.CONNECTED, f"connected on {status.connection}"


def reconciled(
    status: VenueStatus, now: datetime, *, clean: bool, degraded_after_timeouts: int
) -> VenueStatus:
    """Reconciliation succeeded: orders flow (CONNECTED, or DEGRADED on a backup connection)."""
    settled = msgspec.structs.replace(
        status,
        reconciled=True,
        last_reconciliation="clean" if clean else "differences found",
        last_reconciled_at=now,
        reconciliation_failed=False,
    )
    health, reason = _settled_health(settled, degraded_after_timeouts)
    return _moved(settled, now, health=health, reason=reason)


def reconciliation_error(status: VenueStatus, error: str, now: datetime) -> VenueStatus:
    """Reconciliation failed. After a (re)connect the venue stays RECONCILING (it is retried);
    a venue already reconciled since it connected keeps trading, DEGRADED."""
    failed = msgspec.structs.replace(
        status, last_reconciliation=f"failed: {error}", reconciliation_failed=True
    )
    if status.health is VenueHealth.RECONCILING:
        return _moved(failed, now, reason=f"reconciliation failed: {error}; retrying")
    if status.health in ORDERS_FLOW:
        return _moved(
            failed, now, health=VenueHealth.DEGRADED, reason=f"the last reconciliation failed: {error}"
        )
    return failed


def request_timed_out(status: VenueStatus, now: datetime, degraded_after_timeouts: int) -> VenueStatus:
    timed_out = msgspec.structs.replace(status, timeouts=status.timeouts + 1)
    if status.health not in ORDERS_FLOW:
        return timed_out
    health, reason = _settled_health(timed_out, degraded_after_timeouts)
    return _moved(timed_out, now, health=health, reason=reason)


def request_answered(status: VenueStatus, now: datetime, degraded_after_timeouts: int) -> VenueStatus:
    if status.timeouts == 0:
        return status
    answered = msgspec.structs.replace(status, timeouts=0)
    if status.health not in ORDERS_FLOW:
        return answered
    health, reason = _settled_health(answered, degraded_after_timeouts)
    return _moved(answered, now, health=health, reason=reason)


def backoff_delay(attempt: int, *, base: float, cap: float, jitter: bool, draw: float) -> float:
    """Seconds to wait before reconnect attempt `attempt` (1 = first): exponential, capped, and with
    full jitter a uniform share of it (`draw` in [0, 1)), so many engines that lost the same venue
    do not all knock at once ("exponential backoff and jitter", AWS Architecture Blog, 2015)."""
    if attempt < 1:
        raise ValueError(f"attempt must be 1 or more, not {attempt}")
    ceiling: float = min(cap, base * float(2 ** min(attempt - 1, 62)))
    return ceiling * draw if jitter else ceiling


class VenueHealthBoard:
    """The current status of every supervised venue: written by the connectivity supervisor, read by
    the risk view, the router and the service. A venue not on the board is not supervised, and
    counts as accepting orders (its adapter's own errors still apply)."""

    def __init__(self) -> None:
        self._statuses: dict[VenueId, VenueStatus] = {}

    def set(self, status: VenueStatus) -> None:
        self._statuses[status.venue] = status

    def get(self, venue: VenueId) -> VenueStatus | None:
        return self._statuses.get(venue)

    def accepts_orders(self, venue: VenueId) -> bool:
        status = self._statuses.get(venue)
        return status is None or status.accepts_orders

    def __iter__(self) -> Iterator[VenueStatus]:
        return iter(list(self._statuses.values()))
