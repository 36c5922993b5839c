"""Fault injection: a `VenueClient` that wraps any adapter and makes its connection misbehave.

`FaultyVenue` sits between the engine and a venue adapter and, driven by a seeded
`random.Random` and a `FaultPlan`, drops, delays, duplicates and reorders the venue's reports, cuts
the connection (the engine sees `on_connection(False)`, reports meanwhile are lost, and it comes
back a few steps later), makes requests fail before they leave (`VenueUnavailable`), time out after
the venue acted or time out without the venue ever seeing them (both `TimeoutError`: the outcome is
unknown to the engine), and makes queries fail. It knows nothing about the adapter it wraps.

Why a step function instead of timers: reports from the wrapped venue are held in a queue and
released only by `await pump()`, the harness's own clock. Every decision is drawn from seeded
random streams (one per kind of fault) in the order the wrapped venue produced its reports and the
engine made its requests, so a run is reproduced exactly from its seed, and no test waits for real
time. An adapter that delivers on real timers (a network) keeps its own timing; `pump` first lets
the event loop run a few rounds (`settle_rounds`) so what it already received is in the queue.

Every fault injected is appended to `injected` (what, when, to which order), which the harness
prints when an invariant breaks.
"""

import asyncio
import random
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec

from tradewire.domain.errors import VenueUnavailable
from tradewire.domain.events import OrderSpec
from tradewire.domain.ids import AccountId, ClientOrderId, FillId, VenueId
from tradewire.domain.instruments import Instrument
from tradewire.domain.market import Quote
from tradewire.domain.reports import (
    ExecutionReport,
    FillReport,
    OrderStatusReport,
    PositionReport,
)
from tradewire.venues.port import (
    ConnectionHandler,
    OrderRef,
    QuoteHandler,
    ReportHandler,
    VenueCapabilities,
    VenueClient,
)

RequestFault = Literal["unavailable", "timeout_after", "lost"]


class FaultPlan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How often each fault happens. Probabilities are in [0, 1]; the default plan injects nothing.

    Reports (per report the wrapped venue delivers): `drop` loses it, `delay` holds it back for
    1..`max_delay_steps` pumps, `duplicate` delivers it twice (the copy possibly later), and
    `reorder` (per pump) shuffles what is released together.
    Connection (per pump): `cut` drops the connection for 1..`max_cut_steps` pumps.
    Requests (per submit, cancel or amend, at most one of): `request_unavailable` raises
    `VenueUnavailable` and nothing is sent; `request_timeout_after` lets the venue act, then raises
    `TimeoutError`; `request_lost` raises `TimeoutError` and the venue never sees the request.
    Queries (per call): `query_failure` raises `TimeoutError`.
    `fabricate_fill` delivers, after a real fill, a copy under a fill ID the venue never issued:
    a deliberate lie, only for proving that a checker notices it.
    """

    drop: float = 0.0
    delay: float = 0.0
    max_delay_steps: int = 3
    duplicate: float = 0.0
    reorder: float = 0.0
    cut: float = 0.0
    max_cut_steps: int = 3
    request_unavailable: float = 0.0
    request_timeout_after: float = 0.0
    request_lost: float = 0.0
    query_failure: float = 0.0
    fabricate_fill: float = 0.0

    def __post_init__(self) -> None:
        problems = []
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if not name.startswith("max_") and not 0.0 <= value <= 1.0:
                problems.append(f"{name} is {value}")
        requests = self.request_unavailable + self.request_timeout_after + self.request_lost
        if requests > 1.0:
            problems.append(f"the request faults add up to {requests}")
        problems += [
            f"{name} is {getattr(self, name)}"
            for name in ("max_delay_steps", "max_cut_steps")
            if getattr(self, name) < 1
        ]
        if problems:
            raise ValueError(
                "invalid fault plan: " + "; ".join(problems) + " (accepted: probabilities from 0 to 1, "
                "request faults adding up to at most 1, max_delay_steps and max_cut_steps of at least 1)"
            )


CALM = FaultPlan()
"""No faults: what `heal()` switches to."""


class Injected(msgspec.Struct, frozen=True, kw_only=True):
    """One fault that happened: at which pump, which kind, and about what."""

    step: int
    fault: str
    detail: str


class _Held(msgspec.Struct, kw_only=True):
    due: int
    order: int
    report: ExecutionReport


class FaultyVenue:
    """A `VenueClient` that wraps `inner` and injects the faults of `plan`, seeded by `seed`."""

    def __init__(
        self, inner: VenueClient, plan: FaultPlan, seed: int | str, *, settle_rounds: int = 5
    ) -> None:
        self._inner = inner
        self.plan = plan
        self._settle_rounds = settle_rounds
        # One stream per concern: how many reports arrive cannot shift the requests' draws.
        self._reports_random = random.Random(f"{seed}:reports")  # noqa: S311 - a simulation
        self._connection_random = random.Random(f"{seed}:connection")  # noqa: S311
        self._requests_random = random.Random(f"{seed}:requests")  # noqa: S311
        self._queries_random = random.Random(f"{seed}:queries")  # noqa: S311
        self._on_report: ReportHandler | None = None
        self._on_quote: QuoteHandler | None = None
        self._on_connection: ConnectionHandler | None = None
        self._cut_until: int | None = None
        self._held: list[_Held] = []
        self._step_waiters: list[asyncio.Future[None]] = []
        self._arrivals = 0
        self._fabricated = 0
        self.steps = 0
        """Pumps so far: the harness's clock."""
        self.injected: list[Injected] = []
        self.submits_delivered: Counter[ClientOrderId] = Counter()
        """How many submits of each client order ID reached the wrapped venue."""

    # --- VenueClient: identity and connection ------------------------------------------------

    @property
    def inner(self) -> VenueClient:
        return self._inner

    @property
    def venue(self) -> VenueId:
        return self._inner.venue

    @property
    def capabilities(self) -> VenueCapabilities:
        return self._inner.capabilities

    @property
    def connected(self) -> bool:
        return self._inner.connected and self._cut_until is None

    @property
    def cut(self) -> bool:
        """Whether the connection is cut by this harness now."""
        return self._cut_until is not None

    @property
    def held(self) -> int:
        """Reports received and not yet delivered."""
        return len(self._held)

    def instruments(self) -> list[Instrument]:
        return self._inner.instruments()

    async def connect(
        self,
        on_report: ReportHandler,
        on_quote: QuoteHandler,
        on_connection: ConnectionHandler,
    ) -> None:
        """Connect, or (called again after a drop) attempt a reconnect, as the port allows.

        While the harness has the connection cut, a reconnect attempt fails: the connection comes
        back when the cut ends (on a pump), never earlier, so a run does not depend on how often
        the engine retries."""
        reconnecting = self._on_report is not None
        self._on_report, self._on_quote, self._on_connection = on_report, on_quote, on_connection
        if reconnecting and self._cut_until is not None:
            raise VenueUnavailable(f"{self.venue} connection is cut; the reconnect attempt failed")
        if reconnecting and self._inner.connected:
            on_connection(self.venue, True)
            return
        await self._inner.connect(self._receive, self._quote, self._inner_connection)

    async def close(self) -> None:
        self._held.clear()
        await self._inner.close()

    def _inner_connection(self, venue: VenueId, connected: bool) -> None:
        """The wrapped venue's own connection changes pass through, unless we have cut it."""
        if not connected:
            self._held.clear()  # a real connection that drops loses what was on the wire
        if self._cut_until is None and self._on_connection is not None:
            self._on_connection(venue, connected)

    def _quote(self, quote: Quote) -> None:
        """Quotes are not delayed or reordered (a stale quote is another harness's business), but a
        cut connection carries none."""
        if self._cut_until is None and self._on_quote is not None:
            self._on_quote(quote)

    # --- the harness's controls --------------------------------------------------------------

    async def pump(self) -> int:
        """One step: maybe cut or restore the connection, then deliver the reports now due.

        Returns how many reports were delivered. Delivery calls the engine's handler directly, so
        an exception it raises (a simulated crash) comes out of here.
        """
        await self._settle()
        self.steps += 1
        waiters, self._step_waiters = self._step_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._step_connection()
        if self._cut_until is not None:
            return 0
        due = [held for held in self._held if held.due <= self.steps]
        if not due:
            return 0
        self._held = [held for held in self._held if held.due > self.steps]
        due.sort(key=lambda held: (held.due, held.order))
        if len(due) > 1 and self._draw(self._reports_random, self.plan.reorder):
            self._reports_random.shuffle(due)
            self._note("reorder", ", ".join(_describe(held.report) for held in due))
        for held in due:
            if self._on_report is not None:
                self._on_report(held.report)
        return len(due)

    async def drain(self, limit: int = 1000) -> None:
        """Pump until nothing is held back (used when healing); at most `limit` pumps."""
        await self._settle()
        for _ in range(limit):
            if not self._held and self._cut_until is None:
                return
            await self.pump()
        raise RuntimeError(f"{self._held} reports still held after {limit} pumps")

    async def next_step(self) -> None:
        """Wait for the next pump: a deterministic stand-in for the engine's backoff sleeps."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._step_waiters.append(waiter)
        await waiter

    def cut_connection(self, steps: int) -> None:
        """Cut the connection now, for `steps` pumps: reports held and arriving meanwhile are lost."""
        if self._cut_until is not None:
            self._cut_until = max(self._cut_until, self.steps + steps)
            return
        self._cut_until = self.steps + steps
        self._note("cut", f"for {steps} steps")
        lost = len(self._held)
        self._held.clear()
        if lost:
            self._note("lost_in_cut", f"{lost} held reports")
        if self._on_connection is not None and self._inner.connected:
            self._on_connection(self.venue, False)

    def heal(self) -> None:
        """Stop injecting faults and restore a cut connection; held reports still arrive on pumps."""
        self.plan = CALM
        if self._cut_until is not None:
            self._restore()

    def _step_connection(self) -> None:
        if self._cut_until is not None:
            if self.steps >= self._cut_until:
                self._restore()
            return
        if self._draw(self._connection_random, self.plan.cut):
            self.cut_connection(self._connection_random.randint(1, self.plan.max_cut_steps))

    def _restore(self) -> None:
        self._cut_until = None
        self._note("restore", "connection back")
        if self._on_connection is not None and self._inner.connected:
            self._on_connection(self.venue, True)

    async def _settle(self) -> None:
        for _ in range(self._settle_rounds):
            await asyncio.sleep(0)

    # --- reports ---------------------------------------------------------------------------

    def _receive(self, report: ExecutionReport) -> None:
        if self._cut_until is not None:
            self._note("lost_in_cut", _describe(report))
            return
        plan, chance = self.plan, self._reports_random
        if self._draw(chance, plan.drop):
            self._note("drop", _describe(report))
            return
        self._hold(report, self._delay(chance, report))
        if self._draw(chance, plan.duplicate):
            self._note("duplicate", _describe(report))
            self._hold(report, self._delay(chance, report))
        if isinstance(report, FillReport) and self._draw(chance, plan.fabricate_fill):
            self._fabricated += 1
            fake = msgspec.structs.replace(report, fill_id=FillId(f"FABRICATED-{self._fabricated}"))
            self._note("fabricate", _describe(fake))
            self._hold(fake, self.steps + 1)

    def _delay(self, chance: random.Random, report: ExecutionReport) -> int:
        if not self._draw(chance, self.plan.delay):
            return self.steps + 1
        steps = chance.randint(1, self.plan.max_delay_steps)
        self._note("delay", f"{_describe(report)} by {steps} steps")
        return self.steps + 1 + steps

    def _hold(self, report: ExecutionReport, due: int) -> None:
        self._arrivals += 1
        self._held.append(_Held(due=due, order=self._arrivals, report=report))

    # --- VenueClient: requests -------------------------------------------------------------

    async def submit(self, order: OrderSpec) -> None:
        fault = self._request_fault("submit", order.client_order_id)
        if fault == "lost":
            raise TimeoutError(f"submit of {order.client_order_id} timed out (lost on the way)")
        await self._inner.submit(order)
        self.submits_delivered[order.client_order_id] += 1
        if fault == "timeout_after":
            raise TimeoutError(f"submit of {order.client_order_id} timed out (the venue has it)")

    async def cancel(self, order: OrderRef) -> None:
        fault = self._request_fault("cancel", order.client_order_id)
        if fault == "lost":
            raise TimeoutError(f"cancel of {order.client_order_id} timed out (lost on the way)")
        await self._inner.cancel(order)
        if fault == "timeout_after":
            raise TimeoutError(f"cancel of {order.client_order_id} timed out (the venue has it)")

    async def modify(
        self,
        order: OrderRef,
        quantity: Decimal,
        limit_price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        fault = self._request_fault("modify", order.client_order_id)
        if fault == "lost":
            raise TimeoutError(f"amend of {order.client_order_id} timed out (lost on the way)")
        await self._inner.modify(order, quantity, limit_price, stop_price)
        if fault == "timeout_after":
            raise TimeoutError(f"amend of {order.client_order_id} timed out (the venue has it)")

    def _request_fault(self, request: str, client_order_id: ClientOrderId) -> RequestFault | None:
        """Draw the request's fate (always one draw, so the stream stays aligned), then apply a cut."""
        plan = self.plan
        draw = self._requests_random.random()
        fault: RequestFault | None = None
        kinds: tuple[tuple[RequestFault, float], ...] = (
            ("unavailable", plan.request_unavailable),
            ("timeout_after", plan.request_timeout_after),
            ("lost", plan.request_lost),
        )
        for kind, chance in kinds:
            if draw < chance:
                fault = kind
                break
            draw -= chance
        if self._cut_until is not None:
            raise VenueUnavailable(f"{self.venue} connection is cut; the {request} was not sent")
        if fault == "unavailable":
            self._note("request_unavailable", f"{request} {client_order_id}")
            raise VenueUnavailable(f"{self.venue} refused the {request} of {client_order_id}: not sent")
        if fault is not None:
            self._note(f"request_{fault}", f"{request} {client_order_id}")
        return fault

    # --- VenueClient: queries --------------------------------------------------------------

    async def order_status(self, client_order_id: ClientOrderId) -> OrderStatusReport | None:
        self._query("order_status")
        return await self._inner.order_status(client_order_id)

    async def open_orders(self, account: AccountId | None = None) -> list[OrderStatusReport]:
        self._query("open_orders")
        return await self._inner.open_orders(account)

    async def fills_since(self, since: datetime, account: AccountId | None = None) -> list[FillReport]:
        self._query("fills_since")
        return await self._inner.fills_since(since, account)

    async def positions(self, account: AccountId | None = None) -> list[PositionReport]:
        self._query("positions")
        return await self._inner.positions(account)

    def _query(self, name: str) -> None:
        failed = self._draw(self._queries_random, self.plan.query_failure)
        if self._cut_until is not None:
            raise VenueUnavailable(f"{self.venue} connection is cut; {name} cannot be asked")
        if failed:
            self._note("query_failure", name)
            raise TimeoutError(f"{name} at {self.venue} timed out")

    # --- bookkeeping -----------------------------------------------------------------------

    @staticmethod
    def _draw(chance: random.Random, probability: float) -> bool:
        """One draw whatever the probability, so changing a plan's numbers keeps streams aligned."""
        return chance.random() < probability

    def _note(self, fault: str, detail: str) -> None:
        self.injected.append(Injected(step=self.steps, fault=fault, detail=detail))

    def describe_injected(self, last: int = 40) -> str:
        """The last faults injected, one a line, for a failure message."""
        return "\n".join(f"  step {i.step}: {i.fault} {i.detail}" for i in self.injected[-last:])


def _describe(report: ExecutionReport) -> str:
    if isinstance(report, FillReport):
        return f"fill {report.fill_id} of {report.client_order_id} ({report.quantity})"
    if isinstance(report, OrderStatusReport):
        return f"status {report.status} of {report.client_order_id}"
    return f"cancel reject of {report.client_order_id}"


def total_injected(venues: Iterable[FaultyVenue]) -> Counter[str]:
    """How many faults of each kind were injected across `venues`."""
    return Counter(i.fault for venue in venues for i in venue.injected)
