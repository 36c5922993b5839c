"""Bearer-token authentication for every `/api/` route.

The token is compared in constant time and never echoed, logged or put in an error message.
"""

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tradewire.api.errors import Unauthorized

HOW_TO = "send 'Authorization: Bearer <token>' (the token is in <data dir>/api-token)"

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="The engine's API token: TRADEWIRE_API_TOKEN, or the file <data dir>/api-token.",
)
"""Declares the scheme in OpenAPI (the Authorize button in /docs); the check itself is below."""


def token_checker(token: str) -> Callable[..., Awaitable[None]]:
    """A FastAPI dependency that raises `Unauthorized` unless the request carries `token`."""
    expected = token.encode()

    async def require_token(
        request: Request,
        documented: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    ) -> None:
        del documented  # declares the scheme in OpenAPI; the header is checked here instead
        header = request.headers.get("authorization")
        if header is None or not header.strip():
            raise Unauthorized(f"missing Authorization header; {HOW_TO}")
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise Unauthorized(f"the Authorization header must use the Bearer scheme; {HOW_TO}")
        if not credentials.strip():
            raise Unauthorized(f"the Authorization header has no token after 'Bearer'; {HOW_TO}")
        if not hmac.compare_digest(credentials.strip().encode(), expected):
            raise Unauthorized("the bearer token is not this engine's API token")

    return require_token
