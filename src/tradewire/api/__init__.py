"""The HTTP API: a thin FastAPI edge over the trading service (OpenAPI at /docs)."""

from tradewire.api.app import create_app

__all__ = ["create_app"]
