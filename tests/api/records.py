"""Reading what the engine journaled, for the tests of routes that change something."""

from typing import Any, TypeVar

import httpx
import msgspec

from tradewire.domain.events import Record
from tradewire.runtime.node import Engine

R = TypeVar("R", bound=Record)


def journaled(engine: Engine, kind: type[R]) -> list[R]:
    """Every record of `kind` in the engine's journal, oldest first (read back from disk)."""
    return [record for _, record in engine.manager.journal.replay() if isinstance(record, kind)]


async def send(
    api: httpx.AsyncClient, method: str, path: str, body: Any, operator: str | None = None
) -> httpx.Response:
    content = body if isinstance(body, bytes) else msgspec.json.encode(body)
    headers = {"X-Operator": operator} if operator is not None else {}
    return await api.request(method, path, content=content, headers=headers)


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"
    return [problem["field"] for problem in response.json()["problems"]]
