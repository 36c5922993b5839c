"""Build the FastAPI application around one `TradingService`."""

from typing import Any

from fastapi import Depends, FastAPI

from tradewire import __version__
from tradewire.api.auth import token_checker
from tradewire.api.controls import controls_router
from tradewire.api.errors import install_error_handlers
from tradewire.api.routes import api_router, open_router
from tradewire.api.schemas import openapi_components
from tradewire.services.trading import TradingService

DESCRIPTION = """\
Submit signals to the engine and see its orders, positions, fills and accounts; amend orders, set
risk limits and engage the kill switch.

Every `/api/` route needs `Authorization: Bearer <token>`: the token is `TRADEWIRE_API_TOKEN`, or
the file `<data dir>/api-token` the engine writes on its first start.
Decimals are JSON strings (`"1.08500"`) so they stay exact; times are ISO-8601 in UTC.
Errors are `{"error", "message"}`; invalid input (422) adds `problems`, each naming the field,
what was wrong and what is accepted. A change (limits, kill switch, amend, cancel) is journaled
with who made it: `api`, or `api:<name>` with the header `X-Operator: <name>`.
"""


def create_app(service: TradingService, token: str) -> FastAPI:
    if not token:
        raise ValueError("the API needs a non-empty token")
    app = _TradewireApi(
        title="Tradewire",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    install_error_handlers(app)
    authenticated = [Depends(token_checker(token))]
    app.include_router(api_router(service), prefix="/api/v1", dependencies=authenticated)
    app.include_router(controls_router(service), prefix="/api/v1", dependencies=authenticated)
    app.include_router(open_router(service))
    return app


class _TradewireApi(FastAPI):
    def openapi(self) -> dict[str, Any]:
        """FastAPI's document plus the schemas generated from the msgspec structs the routes
        send and the signal they read."""
        schema = super().openapi()
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {}).update(openapi_components())
        return schema
