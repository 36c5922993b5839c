"""The routes: each reads its input, calls the trading service once, and returns its view.

Every handler is `async def` so it runs on the engine's event loop: the service's state is only
ever touched from that loop, never from a worker thread.
"""

from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Path, Query, Request, Response

from tradewire.api.bodies import MAX_BODY_BYTES, AmendRequest, Operator, changed_by, decode
from tradewire.api.errors import PayloadTooLarge
from tradewire.api.schemas import ERRORS, JSON, json_response, many, one, request_body, schema_ref
from tradewire.domain.enums import OrderStatus, SignalOutcome
from tradewire.domain.errors import FieldProblem, InvalidInput
from tradewire.services.trading import MAX_PAGE, TradingService

MAX_SIGNAL_BYTES = 64 * 1024
MAX_BATCH_BYTES = 1024 * 1024
_BATCH = msgspec.json.Decoder(list[Any], float_hook=Decimal)
"""A signal is a few hundred bytes; anything near this is a mistake or an attack."""

STATUS_BY_OUTCOME = {
    SignalOutcome.ACCEPTED: 202,
    SignalOutcome.NO_ACTION: 200,
    SignalOutcome.DENIED: 403,
}
REPLAYED_HEADER = "Idempotent-Replayed"

_SIGNAL_SCHEMA = {"schema": schema_ref("Signal")}
SIGNAL_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            "One signal as a JSON object. Sent as text/plain too (TradingView webhooks do): "
            "the body is read as JSON whatever its Content-Type. At most 64 KiB."
        ),
        "content": {JSON: _SIGNAL_SCHEMA, "text/plain": _SIGNAL_SCHEMA},
    }
}
_REPLAYED = {
    REPLAYED_HEADER: {
        "description": "true when an earlier signal with the same idempotency key produced this",
        "schema": {"type": "string"},
    }
}

AMEND_BODY = request_body(
    "AmendRequest", "At least one of quantity, limit_price, stop_price (decimals as strings or numbers)"
)

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="At most this many, newest first")]
Text = Annotated[str | None, Query()]
OrderId = Annotated[str, Path(description="Our client order ID, e.g. TWm1abc2d-1")]


async def read_body(request: Request, limit: int, what: str = "signal") -> bytes:
    """The raw body, refusing more than `limit` bytes without reading all of it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(_too_large(f"{int(declared)} bytes", limit, what))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(_too_large("more than that", limit, what))
    return bytes(body)


def _too_large(size: str, limit: int, what: str) -> str:
    return f"the body is {size}; a {what} may be at most {limit} bytes ({limit // 1024} KiB)"


def api_router(service: TradingService) -> APIRouter:
    """The authenticated routes, mounted under /api/v1."""
    router = APIRouter(responses={401: ERRORS[401]})

    @router.post(
        "/signals",
        summary="Submit a signal",
        status_code=202,
        response_model=None,
        openapi_extra=SIGNAL_BODY,
        responses={
            202: {**one("SignalResult", "Accepted: orders were created"), "headers": _REPLAYED},
            200: {**one("SignalResult", "No action: the target is already held")},
            403: {**one("SignalResult", "Denied by sizing or risk; see reason_code")},
            413: one("ErrorBody", "The body is larger than 64 KiB"),
            422: ERRORS[422],
        },
    )
    async def submit_signal(request: Request) -> Response:
        """Validate and handle one signal. A repeated idempotency key returns the first result
        with the same status code, `"duplicate": true` and the header `Idempotent-Replayed: true`;
        nothing is sent twice."""
        result = await service.submit_signal(await read_body(request, MAX_SIGNAL_BYTES))
        headers = {REPLAYED_HEADER: "true"} if result.duplicate else None
        return json_response(result, STATUS_BY_OUTCOME[result.outcome], headers)

    @router.post(
        "/signals/batch",
        summary="Submit signals together",
        response_model=None,
        responses={
            200: many("SignalResult", "One result per signal, in order"),
            413: one("ErrorBody", "The body is larger than 1 MiB"),
            422: ERRORS[422],
        },
    )
    async def submit_signals(request: Request) -> Response:
        """A JSON array of up to 100 signals handled together: all are validated first (a problem
        names the signal by its index, e.g. `[2].quantity`, and nothing is done); in accounts with
        `crossing`, opposite market intents on one instrument are crossed inside the engine at the
        mid and only the net is sent. 200 with one result per signal, each with its outcome."""
        body = await read_body(request, MAX_BATCH_BYTES)
        try:
            payloads = _BATCH.decode(body)  # JSON numbers become exact Decimals, never floats
        except msgspec.ValidationError as error:
            raise InvalidInput(
                [FieldProblem("body", "is not a JSON array", "a JSON array of signals")]
            ) from error
        except msgspec.DecodeError as error:
            raise InvalidInput(
                [FieldProblem("body", f"not valid JSON ({error})", "a JSON array of signals")]
            ) from error
        return json_response(await service.submit_signals(payloads))

    @router.get(
        "/orders",
        summary="List orders",
        response_model=None,
        responses={200: many("OrderView", "Orders, newest first"), 422: ERRORS[422]},
    )
    async def list_orders(
        status: Annotated[
            str | None,
            Query(
                description="A status, a comma-separated list of statuses, or `open`. "
                "Statuses: " + ", ".join(OrderStatus)
            ),
        ] = None,
        strategy: Text = None,
        account: Text = None,
        instrument: Text = None,
        limit: Limit = 500,
    ) -> Response:
        views = service.orders(status, strategy, account, instrument, limit)
        return json_response(views)

    @router.get(
        "/orders/{client_order_id}",
        summary="Get one order",
        response_model=None,
        responses={
            200: one("OrderView", "The order"),
            404: one("ErrorBody", "No such order"),
            422: ERRORS[422],
        },
    )
    async def get_order(client_order_id: OrderId) -> Response:
        return json_response(service.order(client_order_id))

    @router.delete(
        "/orders/{client_order_id}",
        summary="Cancel an order",
        status_code=202,
        response_model=None,
        responses={
            202: one("OrderView", "Cancel requested: the order is pending_cancel or canceled"),
            404: one("ErrorBody", "No such order"),
            409: one("ErrorBody", "The order is not working (filled, canceled, rejected...)"),
            422: ERRORS[422],
        },
    )
    async def cancel_order(client_order_id: OrderId, operator: Operator = None) -> Response:
        """Ask the venue to cancel; the order's status says how far it got."""
        view = await service.cancel_order(client_order_id, requested_by=changed_by(operator))
        return json_response(view, 202)

    @router.patch(
        "/orders/{client_order_id}",
        summary="Amend an order",
        status_code=202,
        response_model=None,
        openapi_extra=AMEND_BODY,
        responses={
            202: one("AmendResult", "Amend sent: the order is pending_replace until the venue answers"),
            403: one("AmendResult", "Denied by our risk checks: the order is unchanged; see reason_code"),
            404: one("ErrorBody", "No such order"),
            409: one("ErrorBody", "The order cannot be amended now (not accepted, or the venue cannot)"),
            422: ERRORS[422],
        },
    )
    async def amend_order(client_order_id: OrderId, request: Request, operator: Operator = None) -> Response:
        """Change a working order's quantity, limit price or stop price. The amended order passes
        the risk gate like a new one, so amending up cannot get round a limit."""
        body = decode(await read_body(request, MAX_BODY_BYTES, "amend request"), AmendRequest)
        result = await service.modify_order(
            client_order_id,
            changed_by(operator),
            quantity=body.quantity,
            limit_price=body.limit_price,
            stop_price=body.stop_price,
        )
        return json_response(result, 403 if result.denied else 202)

    @router.get(
        "/positions",
        summary="List positions",
        response_model=None,
        responses={200: many("PositionView", "Positions"), 422: ERRORS[422]},
    )
    async def list_positions(
        account: Text = None,
        by: Annotated[
            Literal["account", "strategy"],
            Query(description="account: what each account holds; strategy: attribution"),
        ] = "account",
        include_flat: Annotated[
            bool, Query(description="Include flat positions with no realized P&L")
        ] = False,
    ) -> Response:
        views = service.positions(account, by_strategy=by == "strategy", include_flat=include_flat)
        return json_response(views)

    @router.get(
        "/fills",
        summary="List fills",
        response_model=None,
        responses={200: many("FillView", "Fills, newest first"), 422: ERRORS[422]},
    )
    async def list_fills(
        account: Text = None,
        strategy: Text = None,
        client_order_id: Text = None,
        limit: Limit = 500,
    ) -> Response:
        return json_response(service.fills(account, strategy, client_order_id, limit))

    @router.get(
        "/accounts",
        summary="List accounts",
        response_model=None,
        responses={200: many("AccountView", "Configured accounts with P&L")},
    )
    async def list_accounts() -> Response:
        return json_response(service.accounts())

    @router.get(
        "/venues",
        summary="Venue connections and health",
        response_model=None,
        responses={200: many("VenueView", "Every venue: health, active connection, reconnect attempts")},
    )
    async def list_venues() -> Response:
        return json_response(service.venues())

    @router.get(
        "/reconciliations",
        summary="Recent reconciliations",
        response_model=None,
        responses={200: many("ReconciliationReport", "Newest first (the last 100 at most)")},
    )
    async def list_reconciliations() -> Response:
        return json_response(list(reversed(service.reconciliations)))

    @router.post(
        "/reconciliations",
        summary="Reconcile every connected venue now",
        response_model=None,
        responses={200: many("ReconciliationReport", "The reports of this reconciliation")},
    )
    async def reconcile_now() -> Response:
        return json_response(await service.reconcile())

    return router


def open_router(service: TradingService) -> APIRouter:
    """Routes that need no token: a load balancer or a supervisor polls them."""
    router = APIRouter()

    @router.get(
        "/healthz",
        summary="Health",
        response_model=None,
        responses={
            200: one("HealthView", "ok: every venue connected and reconciled"),
            503: one("HealthView", "degraded: a venue is down, reconciling, or degraded"),
        },
    )
    async def health() -> Response:
        view = service.health()
        return json_response(view, 200 if view.status == "ok" else 503)

    return router
