"""Build the FastAPI application around one `TradingService`."""

from typing import Any

from fastapi import Depends, FastAPI

from tradewire import __version__
from tradewire.api.auth import token_checker
from tradewire.api.errors import install_error_handlers
from tradewire.api.routes import api_router, open_router
from tradewire.api.schemas import openapi_components
from tradewire.services.trading import TradingService

DESCRIPTION = """\
Submit signals to the engine and see its orders, positions, fills and accounts.

Every `/api/` route needs `Authorization: Bearer <token>`: the token is `TRADEWIRE_API_TOKEN`, or
the file `<data dir>/api-token` the engine writes on its first start.
Decimals are JSON strings (`"1.08500"`) so they stay exact; times are ISO-8601 in UTC.
Errors are `{"error", "message"}`; invalid input (422) adds `problems`, each naming the field,
what was wrong and what is accepted.
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
    app.include_router(api_router(service), prefix="/api/v1", dependencies=[Depends(token_checker(token))])
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
