"""Run the engine and its HTTP API on one event loop until SIGINT or SIGTERM.

Shutdown order: stop accepting requests (uvicorn finishes the ones in flight), then stop the
engine (its tasks, venues and journal). The listening socket is bound before the engine starts, so
a port already in use fails fast, before the journal is replayed or a venue connected.
"""

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Iterator

import uvicorn

from tradewire.api.app import create_app
from tradewire.runtime.node import Engine
from tradewire.runtime.settings import Settings
from tradewire.runtime.token import ensure_token

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling: `serve()` decides when it stops.

    uvicorn re-raises a captured SIGTERM after it stops, which would kill the process before the
    engine closes its journal; here the signal only asks the server to stop.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        for sock in sockets or []:
            host, port = sock.getsockname()[:2]
            log.info("Tradewire listening on %s (docs at /docs)", _url(str(host), int(port)))


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, or an `OSError` that says which address could not be used."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as error:
        raise OSError(error.errno, f"cannot listen on {host}:{port}: {error.strerror}") from error
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def serve(settings: Settings) -> None:
    token = ensure_token(settings)
    sock = bind(settings.api.host, settings.api.port)
    stop = asyncio.Event()
    server: _Server | None = None

    def request_stop(signal_number: int) -> None:
        if stop.is_set() and server is not None:
            log.warning("second %s: not waiting for requests in flight", signal.Signals(signal_number).name)
            server.force_exit = True
        else:
            log.info("%s received: shutting down", signal.Signals(signal_number).name)
        stop.set()
        if server is not None:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for number in STOP_SIGNALS:
        loop.add_signal_handler(number, request_stop, number)
    try:
        with sock:
            async with Engine(settings) as engine:
                config = uvicorn.Config(
                    create_app(engine.service, token),
                    lifespan="off",
                    log_config=None,
                    access_log=settings.log_level == "debug",
                    server_header=False,
                )
                server = _Server(config)
                server.should_exit = stop.is_set()
                await server.serve(sockets=[sock])
    finally:
        for number in STOP_SIGNALS:
            loop.remove_signal_handler(number)
    log.info("Tradewire stopped")
