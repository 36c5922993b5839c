"""What the API sends and how it is documented: the one place that turns views into responses.

Bodies are the service's msgspec view structs, encoded by msgspec: Decimals as JSON strings (so
they stay exact), datetimes as ISO-8601 in UTC. The OpenAPI schemas of those structs are generated
from the same structs (`msgspec.json.schema_components`), so the documentation cannot drift from
what is sent.
"""

import functools
from collections.abc import Mapping
from typing import Any

import msgspec
from fastapi import Response

from tradewire.api.bodies import AmendRequest, KillSwitchRequest, LimitsChange, ResumeRequest
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

JSON = "application/json"
COMPONENTS_PREFIX = "#/components/schemas/"


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    field: str
    """The input that was wrong: a signal field, a query parameter, or `body`."""
    problem: str
    accepted: str
    """What would have been accepted instead."""


class ErrorBody(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Every error the API returns: a stable code, a sentence for people, and for invalid input
    every problem found (not just the first)."""

    error: str
    message: str
    problems: tuple[Problem, ...] = ()


DOCUMENTED: tuple[type[msgspec.Struct], ...] = (
    Signal,
    SignalResult,
    OrderView,
    PositionView,
    FillView,
    AccountView,
    HealthView,
    VenueView,
    ReconciliationReport,
    Limits,
    LimitsChange,
    TradingStateView,
    KillSwitchRequest,
    KillSwitchResult,
    ResumeRequest,
    AmendRequest,
    AmendResult,
    ErrorBody,
)

_ENCODER = msgspec.json.Encoder()


def encode(value: object) -> bytes:
    return _ENCODER.encode(value)


def json_response(
    value: object, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A view (or list of views) as a JSON response."""
    return Response(encode(value), status_code=status_code, headers=headers, media_type=JSON)


def error_response(
    status_code: int,
    error: str,
    message: str,
    problems: tuple[Problem, ...] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = ErrorBody(error=error, message=message, problems=problems)
    return json_response(body, status_code, headers)


@functools.cache
def openapi_components() -> dict[str, Any]:
    """JSON schemas of every documented struct, keyed by name, for `components.schemas`."""
    _, components = msgspec.json.schema_components(DOCUMENTED, ref_template=COMPONENTS_PREFIX + "{name}")
    return components


def schema_ref(name: str) -> dict[str, str]:
    return {"$ref": COMPONENTS_PREFIX + name}


def documented(description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """One entry of a route's `responses` with a JSON schema."""
    return {"description": description, "content": {JSON: {"schema": dict(schema)}}}


def one(name: str, description: str) -> dict[str, Any]:
    return documented(description, schema_ref(name))


def request_body(name: str, description: str) -> dict[str, Any]:
    """A route's `openapi_extra` declaring a required JSON body by its generated schema."""
    content = {JSON: {"schema": schema_ref(name)}}
    return {"requestBody": {"required": True, "description": description, "content": content}}


def many(name: str, description: str) -> dict[str, Any]:
    return documented(description, {"type": "array", "items": schema_ref(name)})


ERRORS: dict[int | str, dict[str, Any]] = {
    401: one("ErrorBody", "Missing or wrong bearer token"),
    422: one("ErrorBody", "Invalid input: every problem, each naming the field"),
}
