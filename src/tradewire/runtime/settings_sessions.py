"""The `sessions` part of the settings tree: what the engine does about trading sessions."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradewire.sessions.policy import SessionPolicy

Minutes = Annotated[int, Field(ge=1, le=24 * 60)]


class SessionSettings(BaseModel):
    """See docs/sessions.md. Calendars come with each instrument from its venue: the paper venue lists
    its instruments as "24/7" unless `paper.sessions = true`, so only real venues' sessions apply by
    default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enforce: bool = True
    """Check sessions in the risk gate and run the session scheduler (DAY expiry, flatten, rollover)."""
    outside_session: Literal["deny", "hold"] = "deny"
    """An order that passes every other check while its session is closed: deny it (the reason says
    when the session opens), or hold it unsent and send it at the open after checking it again."""
    flatten_before_close: dict[str, Minutes] = {}
    """Minutes before the session close to flatten positions, keyed by instrument ID ("AAPL") or asset
    class ("equity", "future", "fx", ...); an instrument's own entry wins. Empty: never."""
    check_interval: float = Field(default=1.0, gt=0)
    """Seconds between the scheduler's looks at the clock: how late after a boundary its work starts."""

    def policy(self) -> SessionPolicy:
        return SessionPolicy(
            enforce=self.enforce,
            outside_session=self.outside_session,
            flatten_before_close=dict(self.flatten_before_close),
        )
