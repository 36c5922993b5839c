"""What the engine does about trading sessions: data, set from the config (docs/sessions.md)."""

from typing import Literal

import msgspec

from tradewire.domain.enums import AssetClass
from tradewire.domain.instruments import Instrument

OutsideSession = Literal["deny", "hold"]


class SessionPolicy(msgspec.Struct, frozen=True, kw_only=True):
    enforce: bool = True
    """Check sessions at all. Each instrument's calendar comes from its venue: the paper venue lists
    its instruments as "24/7" unless `paper.sessions` is on."""
    outside_session: OutsideSession = "deny"
    """An order that passes every other check while its session is closed: deny it, or hold it
    (pending-new, unsent) and send it at the open after checking it again."""
    flatten_before_close: dict[str, int] = msgspec.field(default_factory=dict)
    """Minutes before the close to flatten positions, by instrument ID or asset class ("equity");
    the instrument's own entry wins. Absent: never flattened by the session."""

    def flatten_minutes(self, instrument: Instrument) -> int | None:
        minutes = self.flatten_before_close.get(str(instrument.instrument_id))
        if minutes is None:
            minutes = self.flatten_before_close.get(str(instrument.asset_class))
        return minutes

    @property
    def holds(self) -> bool:
        return self.enforce and self.outside_session == "hold"


def asset_class_names() -> frozenset[str]:
    return frozenset(str(asset_class) for asset_class in AssetClass)
