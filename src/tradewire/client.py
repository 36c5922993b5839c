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
"""

from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, Self, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from tradewire.domain.signals import Signal
from tradewire.oms.reconcile import ReconciliationReport
from tradewire.oms.results import SignalResult
from tradewire.services.views import AccountView, FillView, HealthView, OrderView, PositionView

T = TypeVar("T")

SIGNAL_STATUSES = frozenset({200, 202, 403})
"""No action, accepted and denied: all three carry a `SignalResult`."""


class TradewireClientError(Exception):
    """Base of what this client raises."""


class Problem(msgspec.Struct, frozen=True):
    field: str
    problem: str
    accepted: str

    def __str__(self) -> str:
        return f"{self.field}: {self.problem} (accepted: {self.accepted})"


class _ErrorBody(msgspec.Struct, frozen=True):
    error: str
    message: str
    problems: tuple[Problem, ...] = ()


class ApiError(TradewireClientError):
    """The engine answered with an error. `problems` lists every problem of an invalid input."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        problems: tuple[Problem, ...] = (),
        body: bytes = b"",
    ) -> None:
        self.status = status
        self.error = error
        self.message = message
        self.problems = problems
        self.body = body
        """The response body as sent (JSON)."""
        super().__init__(f"{status} {error}: {message}")


class Unreachable(TradewireClientError):
    """Nothing answered at the URL (refused, unknown host, or no answer in time)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot reach Tradewire at {url} ({reason})")


class OutcomeUnknown(Unreachable):
    """The request may have reached the engine but no answer came: check before resending."""


def _params(**values: object) -> dict[str, str]:
    return {
        name: str(value).lower() if isinstance(value, bool) else str(value)
        for name, value in values.items()
        if value is not None
    }


def _raise_for_error(response: httpx.Response, ok: frozenset[int]) -> None:
    if response.status_code in ok:
        return
    try:
        body = msgspec.json.decode(response.content, type=_ErrorBody)
    except msgspec.MsgspecError:
        text = response.text.strip()[:200] or response.reason_phrase
        raise ApiError(response.status_code, "http_error", text, body=response.content) from None
    raise ApiError(response.status_code, body.error, body.message, body.problems, body=response.content)


@dataclass(frozen=True, slots=True)
class _Call(Generic[T]):
    """One request and how to read its answer; both clients only execute these."""

    method: str
    path: str
    answer: type[T]
    params: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    ok: frozenset[int] = frozenset({200})

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json"} if self.content is not None else {}

    def read(self, response: httpx.Response) -> T:
        _raise_for_error(response, self.ok)
        return msgspec.json.decode(response.content, type=self.answer)

    def failed(self, url: str, error: httpx.TransportError) -> Unreachable:
        reason = str(error) or type(error).__name__
        never_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
        if self.method != "GET" and not never_sent:
            # The request may have arrived: the engine may have acted on it.
            return OutcomeUnknown(url, f"{reason}; the request may or may not have been handled")
        return Unreachable(url, reason)


def _order_path(client_order_id: str) -> str:
    return "/api/v1/orders/" + quote(client_order_id, safe="")


def _submit(signal: Signal | dict[str, Any] | bytes) -> _Call[SignalResult]:
    # Raw JSON is sent as it is, so the engine's one validation path judges it.
    body = signal if isinstance(signal, bytes) else msgspec.json.encode(signal)
    return _Call("POST", "/api/v1/signals", SignalResult, content=body, ok=SIGNAL_STATUSES)


def _orders(
    status: str | None,
    strategy: str | None,
    account: str | None,
    instrument: str | None,
    limit: int | None,
) -> _Call[list[OrderView]]:
    params = _params(status=status, strategy=strategy, account=account, instrument=instrument, limit=limit)
    return _Call("GET", "/api/v1/orders", list[OrderView], params)


def _order(client_order_id: str) -> _Call[OrderView]:
    return _Call("GET", _order_path(client_order_id), OrderView)


def _cancel(client_order_id: str) -> _Call[OrderView]:
    return _Call("DELETE", _order_path(client_order_id), OrderView, ok=frozenset({202}))


def _positions(account: str | None, by_strategy: bool, include_flat: bool) -> _Call[list[PositionView]]:
    params = _params(
        account=account, by="strategy" if by_strategy else None, include_flat=include_flat or None
    )
    return _Call("GET", "/api/v1/positions", list[PositionView], params)


def _fills(
    account: str | None, strategy: str | None, client_order_id: str | None, limit: int | None
) -> _Call[list[FillView]]:
    params = _params(account=account, strategy=strategy, client_order_id=client_order_id, limit=limit)
    return _Call("GET", "/api/v1/fills", list[FillView], params)


_ACCOUNTS = _Call("GET", "/api/v1/accounts", list[AccountView])
_RECONCILIATIONS = _Call("GET", "/api/v1/reconciliations", list[ReconciliationReport])
_HEALTH = _Call("GET", "/healthz", HealthView, ok=frozenset({200, 503}))
"""A degraded engine answers 503 with its health: still an answer, not an error."""


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class TradewireClient:
    """Blocking client. `token` may be None for `health()`, the one call that needs none."""

    def __init__(
        self,
        url: str,
        token: str | None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url, headers=_headers(token), timeout=timeout, transport=transport
        )

    def _run(self, call: _Call[T]) -> T:
        try:
            response = self._http.request(
                call.method,
                call.path,
                params=call.params,
                content=call.content,
                headers=call.headers,
            )
        except httpx.TransportError as error:
            raise call.failed(self.url, error) from error
        return call.read(response)

    def submit_signal(self, signal: Signal | dict[str, Any] | bytes) -> SignalResult:
        """Accepted, no action and denied all return a result; invalid input raises `ApiError`.

        `signal` is a `Signal`, a dict of its fields (Decimals or strings for numbers: a float
        is already inexact), or raw JSON bytes."""
        return self._run(_submit(signal))

    def orders(
        self,
        status: str | None = None,
        strategy: str | None = None,
        account: str | None = None,
        instrument: str | None = None,
        limit: int | None = None,
    ) -> list[OrderView]:
        """Newest first. `status`: a status, a comma-separated list, or "open"."""
        return self._run(_orders(status, strategy, account, instrument, limit))

    def order(self, client_order_id: str) -> OrderView:
        return self._run(_order(client_order_id))

    def cancel(self, client_order_id: str) -> OrderView:
        """Request a cancel; the order comes back pending_cancel or already canceled."""
        return self._run(_cancel(client_order_id))

    def positions(
        self, account: str | None = None, by_strategy: bool = False, include_flat: bool = False
    ) -> list[PositionView]:
        return self._run(_positions(account, by_strategy, include_flat))

    def fills(
        self,
        account: str | None = None,
        strategy: str | None = None,
        client_order_id: str | None = None,
        limit: int | None = None,
    ) -> list[FillView]:
        return self._run(_fills(account, strategy, client_order_id, limit))

    def accounts(self) -> list[AccountView]:
        return self._run(_ACCOUNTS)

    def reconciliations(self) -> list[ReconciliationReport]:
        return self._run(_RECONCILIATIONS)

    def health(self) -> HealthView:
        return self._run(_HEALTH)

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
    ) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.url, headers=_headers(token), timeout=timeout, transport=transport
        )

    async def _run(self, call: _Call[T]) -> T:
        try:
            response = await self._http.request(
                call.method,
                call.path,
                params=call.params,
                content=call.content,
                headers=call.headers,
            )
        except httpx.TransportError as error:
            raise call.failed(self.url, error) from error
        return call.read(response)

    async def submit_signal(self, signal: Signal | dict[str, Any] | bytes) -> SignalResult:
        return await self._run(_submit(signal))

    async def orders(
        self,
        status: str | None = None,
        strategy: str | None = None,
        account: str | None = None,
        instrument: str | None = None,
        limit: int | None = None,
    ) -> list[OrderView]:
        return await self._run(_orders(status, strategy, account, instrument, limit))

    async def order(self, client_order_id: str) -> OrderView:
        return await self._run(_order(client_order_id))

    async def cancel(self, client_order_id: str) -> OrderView:
        return await self._run(_cancel(client_order_id))

    async def positions(
        self, account: str | None = None, by_strategy: bool = False, include_flat: bool = False
    ) -> list[PositionView]:
        return await self._run(_positions(account, by_strategy, include_flat))

    async def fills(
        self,
        account: str | None = None,
        strategy: str | None = None,
        client_order_id: str | None = None,
        limit: int | None = None,
    ) -> list[FillView]:
        return await self._run(_fills(account, strategy, client_order_id, limit))

    async def accounts(self) -> list[AccountView]:
        return await self._run(_ACCOUNTS)

    async def reconciliations(self) -> list[ReconciliationReport]:
        return await self._run(_RECONCILIATIONS)

    async def health(self) -> HealthView:
        return await self._run(_HEALTH)

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
