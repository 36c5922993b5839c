"""Numbers kept once: what `sys.intern` does for names, for the Decimals retained orders repeat.

An engine holds every order and fill it journaled for its whole life, and each arrives with fresh
copies of its numbers (a replay decodes them per record, a venue report builds them per fill) at
about 100 bytes each, while most are repeats: order sizes, zero fees, prices on a tick grid.
`shared` returns the Decimal already kept with the same text, so it is the same number in every
respect (digits, exponent and sign: "1.0" is never swapped for "1", nor "-0" for "0").

Keyed by the text, not by the Decimal itself: hashing a Decimal costs several times what its `str`
does, and equal Decimals may differ in exponent. Bounded: past `SHARED_LIMIT` values it starts
again, so a stream of prices that never repeat costs a fixed amount.
"""

import sys
from decimal import Decimal
from typing import Final, Protocol, TypeVar, cast

SHARED_LIMIT: Final = 4096

_Name = TypeVar("_Name", bound=str)


class _Interning(Protocol):
    def __call__(self, name: _Name, /) -> _Name: ...


interned: Final = cast(_Interning, sys.intern)
"""`sys.intern` that keeps the name's type: `interned(fill.account)` is an `AccountId`. The same
function, not a wrapper, and no `AccountId(...)` around it either (a `NewType` call is a Python
function call): replay interns several names per record."""

_kept: dict[str, Decimal] = {}


def shared(value: Decimal) -> Decimal:
    """`value`, or the identical Decimal kept before it."""
    text = str(value)
    kept = _kept.get(text)
    if kept is not None:
        return kept
    if len(_kept) >= SHARED_LIMIT:
        _kept.clear()
    _kept[text] = value
    return value


def shared_or_none(value: Decimal | None) -> Decimal | None:
    return None if value is None else shared(value)
