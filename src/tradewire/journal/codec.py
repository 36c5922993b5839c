"""Encode and decode journal records as MessagePack, generated from the record types.

Nothing here is written per event: msgspec derives the codec from the tagged structs in
`tradewire.domain.events`, and the `type` tag picks the class on decode. Decimals are stored as
their exact strings ("1.10" stays "1.10", never a float); datetimes as MessagePack timestamps,
which decode as timezone-aware UTC. A naive datetime is refused on encode, because it would come
back as a different instant on a machine in another time zone.
"""

from collections.abc import Callable

import msgspec

from tradewire.domain.events import JournalRecord

_encoder = msgspec.msgpack.Encoder(decimal_format="string")
_decoder: msgspec.msgpack.Decoder[JournalRecord] = msgspec.msgpack.Decoder(JournalRecord)


def encode(record: JournalRecord) -> bytes:
    """The record's payload bytes; raises `ValueError` for a naive timestamp."""
    if record.ts_event.tzinfo is None or record.ts_recorded.tzinfo is None:
        raise ValueError(f"{type(record).__name__} {record.event_id}: timestamps must be timezone-aware")
    return _encoder.encode(record)


decode: Callable[[bytes | memoryview], JournalRecord] = _decoder.decode
"""The record stored in a payload; raises `msgspec.DecodeError` if it is not one.

msgspec's decoder itself, not wrapped in a function: replay calls it for every record."""


def record_kind(record: JournalRecord) -> str:
    """The record's type tag, as stored beside the payload (`OrderFilled`)."""
    return str(type(record).__struct_config__.tag)
