"""Report delivery: later, in order, and never about an order while a request about it is in flight.

Over a network the exchange's answer races its own user-data stream: the stream may say "accepted"
or "filled" before the REST answer to the create is back. The port's contract is that the answer to
a request arrives after the request returned, so reports about an order are held while a request
about that order is in flight (also those already scheduled when it began) and released, in the order
they were produced, when it returns.
Reports about other orders are not held. Delivery is always on a later loop turn (`call_soon`),
never from inside the call that produced the report.
"""

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from tradewire.domain.ids import ClientOrderId
from tradewire.domain.reports import ExecutionReport
from tradewire.venues.port import ReportHandler


class Outbox:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handler: ReportHandler | None = None
        self._in_flight: dict[ClientOrderId, int] = {}
        self._held: dict[ClientOrderId, list[ExecutionReport]] = {}

    @property
    def open(self) -> bool:
        return self._handler is not None

    def open_to(self, handler: ReportHandler) -> None:
        self._loop = asyncio.get_running_loop()
        self._handler = handler

    def close(self) -> None:
        self._handler = None
        self._held.clear()

    @contextmanager
    def requesting(self, client_order_id: ClientOrderId) -> Iterator[None]:
        """Hold reports about `client_order_id` until the request in this block is done."""
        self._in_flight[client_order_id] = self._in_flight.get(client_order_id, 0) + 1
        try:
            yield
        finally:
            remaining = self._in_flight[client_order_id] - 1
            if remaining:
                self._in_flight[client_order_id] = remaining
            else:
                del self._in_flight[client_order_id]
                self._schedule(self._held.pop(client_order_id, []))

    def send(self, reports: Sequence[ExecutionReport]) -> None:
        for report in reports:
            if report.client_order_id in self._in_flight:
                self._held.setdefault(report.client_order_id, []).append(report)
            else:
                self._schedule([report])

    def _schedule(self, reports: Sequence[ExecutionReport]) -> None:
        if self._loop is None:
            return
        for report in reports:
            self._loop.call_soon(self._deliver, report)

    def _deliver(self, report: ExecutionReport) -> None:
        if report.client_order_id in self._in_flight:
            # Scheduled before a new request about its order began: it waits for that one too.
            self._held.setdefault(report.client_order_id, []).append(report)
        elif self._handler is not None:
            self._handler(report)
