"""Real servers the tests talk to (this project's machines run them on loopback).

A test that needs one calls `require_redis()` / `require_postgres()` first: when the server is not
reachable the test is skipped on a developer's machine, and FAILS when the environment variable
`CI` is set, so a CI run can never pass by skipping. `unique_prefix` keeps concurrent test runs
and tests apart on a shared server.
"""

import os
import socket
import uuid

import pytest

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432


def require_server(name: str, host: str, port: int) -> None:
    try:
        socket.create_connection((host, port), timeout=1.0).close()
    except OSError as error:
        message = f"{name} at {host}:{port} is not reachable: {error}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set: tests that need it must run)")
        pytest.skip(message)


def require_redis() -> str:
    """The URL of the test Redis, once it answers."""
    require_server("Redis", REDIS_HOST, REDIS_PORT)
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


def require_postgres() -> str:
    """The address of the test PostgreSQL, once it accepts connections."""
    require_server("PostgreSQL", POSTGRES_HOST, POSTGRES_PORT)
    return f"postgresql://{POSTGRES_HOST}:{POSTGRES_PORT}"


def unique_prefix(purpose: str) -> str:
    """A key prefix no other test or run uses, e.g. `tradewire-test:rate:3f2a...`."""
    return f"tradewire-test:{purpose}:{uuid.uuid4().hex}"
