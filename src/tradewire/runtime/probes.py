"""Crash probes: kill the engine with SIGKILL at a named point, for the crash tests.

`crash_at = "order.journaled:3"` kills the process the third time the order path passes the
`order.journaled` probe. Unset (always, outside tests), the probe does nothing.
Probe names: order.journaled (pending-new is durable, not yet sent), order.sent (the venue has the
order), fill.received (the venue has the fill; our journal does not yet).
"""

import os
import signal

PROBE_NAMES = frozenset({"order.journaled", "order.sent", "fill.received"})


class CrashProbe:
    def __init__(self, spec: str) -> None:
        name, _, count = spec.partition(":")
        if name not in PROBE_NAMES:
            raise ValueError(f"unknown crash probe {name!r}; known: {', '.join(sorted(PROBE_NAMES))}")
        self.name = name
        self.remaining = int(count or "1")

    def __call__(self, name: str) -> None:
        if name != self.name:
            return
        self.remaining -= 1
        if self.remaining <= 0:
            os.kill(os.getpid(), signal.SIGKILL)
