"""A rate budget kept in Redis, shared by every engine process that trades on the same API key.

One Lua script runs the same GCRA arithmetic as `tradewire.domain.throttle.admit`, atomically,
over every limit of the venue at once (all or nothing). Its clock is the Redis server's `TIME`, so
the engines' own clocks never matter. Keys are `<prefix>:{<budget key>}:<limit label>`: the braces
keep one budget's keys in one Redis Cluster slot, and each key expires once its TAT is in the past
(an idle budget leaves nothing behind).

If Redis cannot be reached the request is treated as busy (`VenueBusy`), never sent unmetered:
the order manager retries it a bounded number of times and then rejects it with the reason.
"""

from collections.abc import Sequence

import redis.asyncio
from redis.exceptions import RedisError

from tradewire.domain.errors import VenueBusy
from tradewire.domain.throttle import RateLimit

# ARGV: cost, then (emission interval in microseconds, burst) per key. Returns 0 when admitted
# (and stores the new TATs), else the microseconds to wait. Lua numbers are doubles: microsecond
# timestamps (~1.8e15) are exact below 2^53.
GCRA_SCRIPT = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local cost = tonumber(ARGV[1])
local wait = 0
local tats = {}
for i, key in ipairs(KEYS) do
  local emission = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key) or '0') or 0
  if tat < now then tat = now end
  local next_tat = tat + cost * emission
  local over = next_tat - now - burst * emission
  if over > wait then wait = over end
  tats[i] = next_tat
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  local ttl = math.floor((tats[i] - now) / 1000) + 1
  redis.call('SET', key, string.format('%.0f', tats[i]), 'PX', ttl)
end
return 0
"""


def budget_keys(prefix: str, budget_key: str, limits: Sequence[RateLimit]) -> list[str]:
    return [f"{prefix}:{{{budget_key}}}:{limit.label}" for limit in limits]


class RedisStore:
    """A `BudgetStore` in Redis. The client is shared and closed by its owner."""

    def __init__(
        self, client: "redis.asyncio.Redis", prefix: str, budget_key: str, limits: Sequence[RateLimit]
    ) -> None:
        self.limits = tuple(limits)
        self.keys = budget_keys(prefix, budget_key, self.limits)
        self._args = [value for limit in self.limits for value in (limit.emission_us, limit.capacity)]
        self._script = client.register_script(GCRA_SCRIPT)

    async def take(self, cost: int) -> int:
        too_big = [limit.label for limit in self.limits if cost > limit.capacity]
        if too_big:
            raise ValueError(f"a request of cost {cost} can never pass {too_big[0]} (burst too small)")
        try:
            wait = await self._script(keys=self.keys, args=[cost, *self._args])
        except (RedisError, OSError) as error:
            raise VenueBusy(f"the shared rate budget in Redis is unreachable: {error}") from error
        return int(wait)
