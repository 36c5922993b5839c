"""A Python client for a running Tradewire engine, for strategies in another process.

    from tradewire.client import TradewireClient

    with TradewireClient("http://127.0.0.1:8080", token) as client:
        result = client.submit_signal(
            {"strategy": "trend-1", "instrument": "EURUSD", "side": "buy", "quantity": "10000",
             "order_type": "limit", "limit_price": "1.08", "idempotency_key": "trend-1:42"}
        )
        print(result.outcome, result.client_order_ids)

Responses decode into the service's view structs with msgspec, so Decimals arrive exact. Errors
raise `ApiError` (with every problem of an invalid input); a timeout on `submit_signal` raises
`OutcomeUnknown`: the signal may or may not have been handled, so look before sending it again
(or always send an idempotency key, which makes a resend safe).

`operator` names who is acting: it is sent as `X-Operator` with every change (limits, kill
switch, amend, cancel) and journaled as `api:<operator>`.
"""

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from tradewire import client_calls as calls
from tradewire.client_calls import (
    ApiError,
    Number,
    OutcomeUnknown,
    Problem,
    TradewireClientError,
    Unreachable,
)
from tradewire.domain.enums import TradingState
from tradewire.domain.limits import Limits
from tradewire.domain.signals import Signal
from tradewire.oms.controls import KillSwitchResult
from tradewire.oms.reconcile import ReconciliationReport
from tradewire.oms.results import SignalResult
from tradewire.services.views import (
    AccountView,
    AmendResult,
    FillView,
    HealthView,
    OrderView,
    PositionView,
    TradingStateView,
    VenueView,
)

__all__ = [
    "ApiError",
    "AsyncTradewireClient",
    "OutcomeUnknown",
    "Problem",
    "TradewireClient",
    "TradewireClientError",
    "Unreachable",
]

T = TypeVar("T")


class TradewireClient:
    """Blocking client. `token` may be None for `health()`, the one call that needs none."""

    def __init__(
        self,
        url: str,
        token: str | None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        operator: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.operator = operator
        self._http = httpx.Client(
            base_url=self.url, headers=calls.auth_headers(token), timeout=timeout, transport=transport
        )

    def _run(self, call: calls.Call[T]) -> T:
        try:
            response = self._http.request(
                call.method,
                call.path,
                params=call.params,
                content=call.content,
                headers=call.headers(self.operator),
            )
        except httpx.TransportError as error:
            raise call.failed(self.url, error) from error
        return call.read(response)

    def submit_signal(self, signal: Signal | dict[str, Any] | bytes) -> SignalResult:
        """Accepted, no action and denied all return a result; invalid input raises `ApiError`.

        `signal` is a `Signal`, a dict of its fields (Decimals or strings for numbers: a float
        is already inexact), or raw JSON bytes."""
        return self._run(calls.submit(signal))

    def orders(
        self,
        status: str | None = None,
        strategy: str | None = None,
        account: str | None = None,
        instrument: str | None = None,
        limit: int | None = None,
    ) -> list[OrderView]:
        """Newest first. `status`: a status, a comma-separated list, or "open"."""
        return self._run(calls.orders(status, strategy, account, instrument, limit))

    def order(self, client_order_id: str) -> OrderView:
        return self._run(calls.order(client_order_id))

    def cancel(self, client_order_id: str) -> OrderView:
        """Request a cancel; the order comes back pending_cancel or already canceled."""
        return self._run(calls.cancel(client_order_id))

    def amend(
        self,
        client_order_id: str,
        quantity: Number | None = None,
        limit_price: Number | None = None,
        stop_price: Number | None = None,
    ) -> AmendResult:
        """Sent (`denied` false: the order is pending_replace) or denied by the engine's risk checks
        (`denied` true, with the reason; the order is unchanged). Invalid input raises `ApiError`."""
        return self._run(calls.amend(client_order_id, quantity, limit_price, stop_price))

    def limits(self) -> dict[str, Limits]:
        """Every scope's limits, keyed by scope (`portfolio`, `account:<id>`, ...)."""
        return self._run(calls.LIMITS)

    def set_limits(self, scope: str, limits: Limits | Mapping[str, Any] | bytes) -> Limits:
        """Replace `scope`'s limits: a limit left out is removed. `limits` may be raw JSON."""
        return self._run(calls.set_limits(scope, limits))

    def kill_switch_states(self) -> list[TradingStateView]:
        return self._run(calls.TRADING_STATES)

    def engage_kill_switch(
        self,
        reason: str,
        scope: str = "portfolio",
        state: TradingState | str | None = None,
        flatten: bool = False,
        cancel_working: bool = True,
    ) -> KillSwitchResult:
        """Halt (or with `state="reducing"` only let reducing orders through) until `resume`.
        `flatten` also cancels the scope's working orders and closes its positions."""
        return self._run(calls.engage(scope, reason, state, flatten, cancel_working))

    def resume(self, reason: str, scope: str = "portfolio") -> list[TradingStateView]:
        return self._run(calls.resume(scope, reason))

    def positions(
        self, account: str | None = None, by_strategy: bool = False, include_flat: bool = False
    ) -> list[PositionView]:
        return self._run(calls.positions(account, by_strategy, include_flat))

    def fills(
        self,
        account: str | None = None,
        strategy: str | None = None,
        client_order_id: str | None = None,
        limit: int | None = None,
    ) -> list[FillView]:
        return self._run(calls.fills(account, strategy, client_order_id, limit))

    def accounts(self) -> list[AccountView]:
        return self._run(calls.ACCOUNTS)

    def venues(self) -> list[VenueView]:
        """Every venue's health, active connection and reconnect attempts."""
        return self._run(calls.VENUES)

    def reconciliations(self) -> list[ReconciliationReport]:
        return self._run(calls.RECONCILIATIONS)

    def reconcile(self) -> list[ReconciliationReport]:
        """Reconcile every connected venue now; the new reports."""
        return self._run(calls.RECONCILE)

    def health(self) -> HealthView:
        return self._run(calls.HEALTH)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncTradewireClient:
    """The same calls as `TradewireClient`, for asyncio code."""

    def __init__(
        self,
        url: str,
        token: str | None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        operator: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.operator = operator
        self._http = httpx.AsyncClient(
            base_url=self.url, headers=calls.auth_headers(token), timeout=timeout, transport=transport
        )

    async def _run(self, call: calls.Call[T]) -> T:
        try:
            response = await self._http.request(
                call.method,
                call.path,
                params=call.params,
                content=call.content,
                headers=call.headers(self.operator),
            )
        except httpx.TransportError as error:
            raise call.failed(self.url, error) from error
        return call.read(response)

    async def submit_signal(self, signal: Signal | dict[str, Any] | bytes) -> SignalResult:
        return await self._run(calls.submit(signal))

    async def orders(
        self,
        status: str | None = None,
        strategy: str | None = None,
        account: str | None = None,
        instrument: str | None = None,
        limit: int | None = None,
    ) -> list[OrderView]:
        return await self._run(calls.orders(status, strategy, account, instrument, limit))

    async def order(self, client_order_id: str) -> OrderView:
        return await self._run(calls.order(client_order_id))

    async def cancel(self, client_order_id: str) -> OrderView:
        return await self._run(calls.cancel(client_order_id))

    async def amend(
        self,
        client_order_id: str,
        quantity: Number | None = None,
        limit_price: Number | None = None,
        stop_price: Number | None = None,
    ) -> AmendResult:
        return await self._run(calls.amend(client_order_id, quantity, limit_price, stop_price))

    async def limits(self) -> dict[str, Limits]:
        return await self._run(calls.LIMITS)

    async def set_limits(self, scope: str, limits: Limits | Mapping[str, Any] | bytes) -> Limits:
        return await self._run(calls.set_limits(scope, limits))

    async def kill_switch_states(self) -> list[TradingStateView]:
        return await self._run(calls.TRADING_STATES)

    async def engage_kill_switch(
        self,
        reason: str,
        scope: str = "portfolio",
        state: TradingState | str | None = None,
        flatten: bool = False,
        cancel_working: bool = True,
    ) -> KillSwitchResult:
        return await self._run(calls.engage(scope, reason, state, flatten, cancel_working))

    async def resume(self, reason: str, scope: str = "portfolio") -> list[TradingStateView]:
        return await self._run(calls.resume(scope, reason))

    async def positions(
        self, account: str | None = None, by_strategy: bool = False, include_flat: bool = False
    ) -> list[PositionView]:
        return await self._run(calls.positions(account, by_strategy, include_flat))

    async def fills(
        self,
        account: str | None = None,
        strategy: str | None = None,
        client_order_id: str | None = None,
        limit: int | None = None,
    ) -> list[FillView]:
        return await self._run(calls.fills(account, strategy, client_order_id, limit))

    async def accounts(self) -> list[AccountView]:
        return await self._run(calls.ACCOUNTS)

    async def venues(self) -> list[VenueView]:
        return await self._run(calls.VENUES)

    async def reconciliations(self) -> list[ReconciliationReport]:
        return await self._run(calls.RECONCILIATIONS)

    async def reconcile(self) -> list[ReconciliationReport]:
        return await self._run(calls.RECONCILE)

    async def health(self) -> HealthView:
        return await self._run(calls.HEALTH)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
