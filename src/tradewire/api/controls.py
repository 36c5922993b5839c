"""Routes for risk limits and the kill switch, mounted under /api/v1 with the others.

A change is journaled with who made it: `api`, or `api:<name>` when the request carries
`X-Operator: <name>`. The kill switch is latched: it stays engaged until a person resumes it.
"""

from fastapi import APIRouter, Request, Response

from tradewire.api.bodies import (
    MAX_BODY_BYTES,
    KillSwitchRequest,
    LimitsChange,
    Operator,
    ResumeRequest,
    changed_by,
    decode,
    kill_switch_state,
)
from tradewire.api.routes import read_body
from tradewire.api.schemas import ERRORS, documented, json_response, many, one, request_body, schema_ref
from tradewire.services.trading import TradingService

_LIMITS_BY_SCOPE = documented(
    "Every scope's limits, keyed by scope; a limit not shown is not set",
    {"type": "object", "additionalProperties": schema_ref("Limits")},
)


def controls_router(service: TradingService) -> APIRouter:
    router = APIRouter(responses={401: ERRORS[401]})

    @router.get(
        "/risk/limits",
        summary="Risk limits",
        response_model=None,
        responses={200: _LIMITS_BY_SCOPE},
    )
    async def get_limits() -> Response:
        return json_response(service.limits())

    @router.put(
        "/risk/limits",
        summary="Replace one scope's limits",
        response_model=None,
        openapi_extra=request_body(
            "LimitsChange", "The scope and all its limits (the ones left out are removed)"
        ),
        responses={200: one("Limits", "The scope's limits now in force"), 422: ERRORS[422]},
    )
    async def put_limits(request: Request, operator: Operator = None) -> Response:
        """Replaces, not merges: a limit left out of `limits` is removed. Journaled with who did it;
        a restart keeps it until the config file's limits for that scope change."""
        change = decode(await read_body(request, MAX_BODY_BYTES, "limits change"), LimitsChange)
        limits = await service.set_limits(change.scope, change.limits, changed_by(operator))
        return json_response(limits)

    @router.get(
        "/kill-switch",
        summary="Kill-switch states",
        response_model=None,
        responses={200: many("TradingStateView", "Each scope whose state was ever changed")},
    )
    async def get_trading_states() -> Response:
        return json_response(service.trading_states())

    @router.post(
        "/kill-switch",
        summary="Engage the kill switch",
        response_model=None,
        openapi_extra=request_body("KillSwitchRequest", "The scope, the state and why"),
        responses={
            200: one("KillSwitchResult", "Engaged: the state, the orders canceled and the flatten orders"),
            422: ERRORS[422],
        },
    )
    async def engage(request: Request, operator: Operator = None) -> Response:
        """`halted` denies every new order, `reducing` lets only reducing orders through; cancels
        always pass. With `flatten` the scope goes to `reducing`, its working orders are canceled
        and reduce-only market orders close its positions (a denied one names its reason). The
        state holds until `POST /api/v1/kill-switch/resume`."""
        body = decode(await read_body(request, MAX_BODY_BYTES, "kill-switch request"), KillSwitchRequest)
        result = await service.engage_kill_switch(
            body.scope,
            changed_by(operator),
            body.reason,
            state=kill_switch_state(body),
            flatten=body.flatten,
            cancel_working=body.cancel_working,
        )
        return json_response(result)

    @router.post(
        "/kill-switch/resume",
        summary="Resume trading",
        response_model=None,
        openapi_extra=request_body("ResumeRequest", "The scope and why"),
        responses={200: many("TradingStateView", "The states after the resume"), 422: ERRORS[422]},
    )
    async def resume(request: Request, operator: Operator = None) -> Response:
        """Re-arm one scope: it becomes active. A narrower or wider scope still engaged keeps
        denying what it covers (the most restrictive state applies)."""
        body = decode(await read_body(request, MAX_BODY_BYTES, "resume request"), ResumeRequest)
        await service.resume(body.scope, changed_by(operator), body.reason)
        return json_response(service.trading_states())

    return router
