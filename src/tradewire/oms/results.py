"""What a signal came to, as every front end reports it."""

import msgspec

from tradewire.domain.enums import SignalOutcome
from tradewire.domain.events import SignalHandled
from tradewire.domain.ids import ClientOrderId, SignalId


class SignalResult(msgspec.Struct, frozen=True, kw_only=True):
    signal_id: SignalId
    outcome: SignalOutcome
    client_order_ids: tuple[ClientOrderId, ...] = ()
    reason_code: str | None = None
    reason: str | None = None
    duplicate: bool = False
    """True when an earlier signal with the same idempotency key produced this result."""

    @classmethod
    def from_record(cls, record: SignalHandled, duplicate: bool) -> "SignalResult":
        return cls(
            signal_id=record.signal_id,
            outcome=record.outcome,
            client_order_ids=record.client_order_ids,
            reason_code=record.reason_code,
            reason=record.reason,
            duplicate=duplicate,
        )
