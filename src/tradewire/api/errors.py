"""Errors as HTTP responses, all in one shape: `{"error", "message"}`, plus `problems` for 422.

No stack trace ever reaches a client: unexpected exceptions are logged here and answered with a
500 that says to look at the engine's log.
"""

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from tradewire.api.bodies import OPERATOR_ACCEPTED
from tradewire.api.schemas import Problem, error_response
from tradewire.domain.errors import Conflict, InvalidInput, NotFound, VenueError

log = logging.getLogger(__name__)

BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}

PARAMETER_ACCEPTED = {
    "limit": "an integer from 1 to 10000",
    "by": "account or strategy",
    "include_flat": "true or false",
    "X-Operator": OPERATOR_ACCEPTED,
}
"""What each query parameter or header accepts, for the problems of a 422 that FastAPI's checks raise."""


class Unauthorized(Exception):
    """The request lacks a valid bearer token. The message never contains the token."""


class PayloadTooLarge(Exception):
    pass


def invalid_input_response(problems: list[Problem]) -> Response:
    count = len(problems)
    summary = "; ".join(f"{p.field}: {p.problem}" for p in problems)
    message = f"{count} problem{'s' if count != 1 else ''} with the input: {summary}"
    return error_response(422, "invalid_input", message, tuple(problems))


async def _invalid_input(_: Request, error: Exception) -> Response:
    if not isinstance(error, InvalidInput):  # registered for this type only
        raise error
    return invalid_input_response(
        [Problem(field=p.field, problem=p.problem, accepted=p.accepted) for p in error.problems]
    )


async def _request_validation(_: Request, error: Exception) -> Response:
    if not isinstance(error, RequestValidationError):  # registered for this type only
        raise error
    problems = []
    for detail in error.errors():
        location = [str(part) for part in detail.get("loc", ())]
        field = location[-1] if location else "request"
        message = str(detail.get("msg", "is invalid"))
        given = detail.get("input")
        if isinstance(given, str | int):
            message = f"{message}, got {given!r}"
        accepted = PARAMETER_ACCEPTED.get(field, "see the API documentation at /docs")
        problems.append(Problem(field=field, problem=message, accepted=accepted))
    return invalid_input_response(problems)


async def _not_found(_: Request, error: Exception) -> Response:
    return error_response(404, "not_found", str(error))


async def _conflict(_: Request, error: Exception) -> Response:
    return error_response(409, "conflict", str(error))


async def _venue_error(_: Request, error: Exception) -> Response:
    message = f"the venue could not be reached, so the outcome may be unknown: {error}"
    return error_response(503, "venue_unavailable", message)


async def _unauthorized(_: Request, error: Exception) -> Response:
    return error_response(401, "unauthorized", str(error), headers=BEARER_CHALLENGE)


async def _payload_too_large(_: Request, error: Exception) -> Response:
    return error_response(413, "payload_too_large", str(error))


async def _http_error(_: Request, error: Exception) -> Response:
    if not isinstance(error, HTTPException):  # registered for this type only
        raise error
    status = HTTPStatus(error.status_code)
    code = status.phrase.lower().replace(" ", "_").replace("-", "_")
    message = error.detail if isinstance(error.detail, str) else status.description
    return error_response(error.status_code, code, message, headers=error.headers)


async def _unexpected(request: Request, error: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=error)
    return error_response(500, "internal_error", "the engine failed to answer; see its log")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(InvalidInput, _invalid_input)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(VenueError, _venue_error)
    app.add_exception_handler(Unauthorized, _unauthorized)
    app.add_exception_handler(PayloadTooLarge, _payload_too_large)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
