"""The rate budget shared through Redis (the real server on 127.0.0.1:6379): engines on the same
key share one budget and never exceed it together; different keys are independent; an unreachable
Redis is a busy answer, never an unmetered request."""

import asyncio
import sys
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import redis.asyncio

from tests.servers import require_redis, unique_prefix
from tradewire.domain.errors import VenueBusy
from tradewire.domain.throttle import RateLimit
from tradewire.venues.redis_throttle import RedisStore
from tradewire.venues.throttle import Budget

PER_MINUTE = (RateLimit(requests=10, seconds=Decimal(60)),)
"""Slow enough that no token comes back during a test: exactly the burst passes."""


@pytest.fixture
async def redis_clients() -> AsyncIterator[list[redis.asyncio.Redis]]:
    """Two independent clients, standing for two engine processes."""
    url = require_redis()
    clients = [redis.asyncio.Redis.from_url(url), redis.asyncio.Redis.from_url(url)]
    try:
        yield clients
    finally:
        for client in clients:
            await client.aclose()


async def admitted(paced: Budget, attempts: int) -> int:
    passed = 0
    for _ in range(attempts):
        try:
            await paced.acquire()
        except VenueBusy:
            continue
        passed += 1
    return passed


async def test_two_engines_on_one_key_share_one_budget(redis_clients: list[redis.asyncio.Redis]) -> None:
    prefix = unique_prefix("rate")
    engines = [
        Budget("binance-main", RedisStore(c, prefix, "binance-main", PER_MINUTE), 0) for c in redis_clients
    ]
    first = await admitted(engines[0], 7)
    second = await admitted(engines[1], 20)
    again = await admitted(engines[0], 5)
    assert (first, second, again) == (7, 3, 0)


async def test_interleaved_requests_never_pass_more_than_the_budget_together(
    redis_clients: list[redis.asyncio.Redis],
) -> None:
    prefix = unique_prefix("rate")
    engines = [Budget("k", RedisStore(c, prefix, "k", PER_MINUTE), 0) for c in redis_clients]
    total = 0
    for _ in range(15):
        for engine in engines:
            total += await admitted(engine, 1)
    assert total == 10


async def test_different_keys_have_their_own_budgets(redis_clients: list[redis.asyncio.Redis]) -> None:
    prefix = unique_prefix("rate")
    one = Budget("a", RedisStore(redis_clients[0], prefix, "account-a", PER_MINUTE), 0)
    other = Budget("b", RedisStore(redis_clients[1], prefix, "account-b", PER_MINUTE), 0)
    assert (await admitted(one, 12), await admitted(other, 12)) == (10, 10)


async def test_a_spent_budget_says_how_long_to_wait_and_keys_expire(
    redis_clients: list[redis.asyncio.Redis],
) -> None:
    prefix = unique_prefix("rate")
    store = RedisStore(redis_clients[0], prefix, "k", (RateLimit(requests=1, seconds=Decimal(30)),))
    paced = Budget("k", store, 0)
    await paced.acquire()
    with pytest.raises(VenueBusy) as busy:
        await paced.acquire()
    assert busy.value.retry_after is not None
    assert 0 < busy.value.retry_after <= 30
    [key] = store.keys
    assert key == f"{prefix}:{{k}}:1per30s"
    assert 0 < await redis_clients[0].pttl(key) <= 30_001


async def test_every_limit_of_a_venue_is_taken_together_or_not_at_all(
    redis_clients: list[redis.asyncio.Redis],
) -> None:
    prefix = unique_prefix("rate")
    limits = (RateLimit(requests=100, seconds=Decimal(1)), RateLimit(requests=2, seconds=Decimal(60)))
    paced = Budget("k", RedisStore(redis_clients[0], prefix, "k", limits), 0)
    assert await admitted(paced, 5) == 2
    per_second_key = RedisStore(redis_clients[0], prefix, "k", limits).keys[0]
    stored = await redis_clients[0].get(per_second_key)
    assert stored is not None
    tat = int(stored)
    time = await redis_clients[0].time()
    now_us = time[0] * 1_000_000 + time[1]
    assert tat - now_us <= 2 * 10_000, "refused requests took nothing from the per-second limit"


async def test_an_unreachable_redis_is_a_busy_answer() -> None:
    client = redis.asyncio.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1.0)
    try:
        paced = Budget("k", RedisStore(client, unique_prefix("rate"), "k", PER_MINUTE), 0)
        with pytest.raises(VenueBusy, match="unreachable"):
            await paced.acquire()
    finally:
        await client.aclose()


ENGINE_PROCESS = """
import asyncio, sys
from decimal import Decimal
import redis.asyncio
from tradewire.domain.errors import VenueBusy
from tradewire.domain.throttle import RateLimit
from tradewire.venues.redis_throttle import RedisStore
from tradewire.venues.throttle import Budget

async def main(url, prefix):
    client = redis.asyncio.Redis.from_url(url)
    paced = Budget("k", RedisStore(client, prefix, "k", (RateLimit(requests=10, seconds=Decimal(60)),)), 0)
    while not await client.exists(prefix + ":go"):  # every process starts together
        await asyncio.sleep(0.001)

    async def one():
        try:
            await paced.acquire()
        except VenueBusy:
            return 0
        return 1

    print(sum(await asyncio.gather(*(one() for _ in range(50)))))
    await client.aclose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_engine_processes_racing_on_one_key_never_pass_more_than_the_budget_together(
    redis_clients: list[redis.asyncio.Redis],
) -> None:
    """Four processes, 50 requests each in flight at once, released together: 10 pass in all."""
    url, prefix = require_redis(), unique_prefix("rate")
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", ENGINE_PROCESS, url, prefix, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(4)
    ]
    await asyncio.sleep(0.5)  # let them connect and wait for the start
    await redis_clients[0].set(f"{prefix}:go", 1, ex=60)
    outputs = await asyncio.wait_for(asyncio.gather(*(child.communicate() for child in children)), 60)

    assert [child.returncode for child in children] == [0] * 4
    assert sum(int(stdout) for stdout, _ in outputs) == 10
