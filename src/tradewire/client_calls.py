"""The requests the clients make, each a `Call`: what to send and how to read the answer, and the
errors raised when the answer is an error or never comes. Both clients only execute these.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
import msgspec

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

T = TypeVar("T")

SIGNAL_STATUSES = frozenset({200, 202, 403})
"""No action, accepted and denied: all three carry a `SignalResult`."""
AMEND_STATUSES = frozenset({202, 403})
"""Sent and denied: both carry an `AmendResult`."""
Number = Decimal | str
"""A decimal, or its exact text: never a float."""


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


def _query(**values: object) -> dict[str, str]:
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
class Call(Generic[T]):
    """One request and how to read its answer; both clients only execute these."""

    method: str
    path: str
    answer: type[T]
    params: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    ok: frozenset[int] = frozenset({200})
    changes: bool = False
    """Sent with `X-Operator`: the engine journals who made the change."""

    def headers(self, operator: str | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json"} if self.content is not None else {}
        if self.changes and operator:
            headers["X-Operator"] = operator
        return headers

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


def order_path(client_order_id: str) -> str:
    return "/api/v1/orders/" + quote(client_order_id, safe="")


def submit(signal: Signal | dict[str, Any] | bytes) -> Call[SignalResult]:
    # Raw JSON is sent as it is, so the engine's one validation path judges it.
    body = signal if isinstance(signal, bytes) else msgspec.json.encode(signal)
    return Call("POST", "/api/v1/signals", SignalResult, content=body, ok=SIGNAL_STATUSES)


def orders(
    status: str | None,
    strategy: str | None,
    account: str | None,
    instrument: str | None,
    limit: int | None,
) -> Call[list[OrderView]]:
    params = _query(status=status, strategy=strategy, account=account, instrument=instrument, limit=limit)
    return Call("GET", "/api/v1/orders", list[OrderView], params)


def order(client_order_id: str) -> Call[OrderView]:
    return Call("GET", order_path(client_order_id), OrderView)


def cancel(client_order_id: str) -> Call[OrderView]:
    return Call("DELETE", order_path(client_order_id), OrderView, ok=frozenset({202}), changes=True)


def amend(
    client_order_id: str, quantity: Number | None, limit_price: Number | None, stop_price: Number | None
) -> Call[AmendResult]:
    given = {"quantity": quantity, "limit_price": limit_price, "stop_price": stop_price}
    body = msgspec.json.encode({name: str(value) for name, value in given.items() if value is not None})
    path = order_path(client_order_id)
    return Call("PATCH", path, AmendResult, content=body, ok=AMEND_STATUSES, changes=True)


def set_limits(scope: str, limits: Limits | Mapping[str, Any] | bytes) -> Call[Limits]:
    # Raw JSON (a file) is sent as it is, so the engine's validation judges it.
    given = msgspec.Raw(limits) if isinstance(limits, bytes) else limits
    body = msgspec.json.encode({"scope": scope, "limits": given})
    return Call("PUT", "/api/v1/risk/limits", Limits, content=body, changes=True)


def engage(
    scope: str, reason: str, state: TradingState | str | None, flatten: bool, cancel_working: bool
) -> Call[KillSwitchResult]:
    fields = {"scope": scope, "reason": reason, "flatten": flatten, "cancel_working": cancel_working}
    body = msgspec.json.encode(fields if state is None else {**fields, "state": str(state)})
    return Call("POST", "/api/v1/kill-switch", KillSwitchResult, content=body, changes=True)


def resume(scope: str, reason: str) -> Call[list[TradingStateView]]:
    body = msgspec.json.encode({"scope": scope, "reason": reason})
    return Call("POST", "/api/v1/kill-switch/resume", list[TradingStateView], content=body, changes=True)


def positions(account: str | None, by_strategy: bool, include_flat: bool) -> Call[list[PositionView]]:
    params = _query(
        account=account, by="strategy" if by_strategy else None, include_flat=include_flat or None
    )
    return Call("GET", "/api/v1/positions", list[PositionView], params)


def fills(
    account: str | None, strategy: str | None, client_order_id: str | None, limit: int | None
) -> Call[list[FillView]]:
    params = _query(account=account, strategy=strategy, client_order_id=client_order_id, limit=limit)
    return Call("GET", "/api/v1/fills", list[FillView], params)


ACCOUNTS = Call("GET", "/api/v1/accounts", list[AccountView])
VENUES = Call("GET", "/api/v1/venues", list[VenueView])
RECONCILIATIONS = Call("GET", "/api/v1/reconciliations", list[ReconciliationReport])
RECONCILE = Call("POST", "/api/v1/reconciliations", list[ReconciliationReport], changes=True)
LIMITS = Call("GET", "/api/v1/risk/limits", dict[str, Limits])
TRADING_STATES = Call("GET", "/api/v1/kill-switch", list[TradingStateView])
HEALTH = Call("GET", "/healthz", HealthView, ok=frozenset({200, 503}))
"""A degraded engine answers 503 with its health: still an answer, not an error."""


def auth_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}
