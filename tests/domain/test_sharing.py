from decimal import Decimal

import pytest

from tradewire.domain import sharing
from tradewire.domain.sharing import SHARED_LIMIT, shared, shared_or_none


@pytest.fixture(autouse=True)
def kept(monkeypatch: pytest.MonkeyPatch) -> dict[str, Decimal]:
    """An empty cache for each test, and the engine's own left as it was."""
    fresh: dict[str, Decimal] = {}
    monkeypatch.setattr(sharing, "_kept", fresh)
    return fresh


def test_an_equal_number_written_the_same_way_is_the_one_kept_before() -> None:
    first = shared(Decimal("5000.25"))

    again = shared(Decimal("5000.25"))

    assert again is first


@pytest.mark.parametrize(("first", "other"), [("1", "1.0"), ("0", "-0"), ("1E+2", "100"), ("0.00", "0")])
def test_an_equal_number_written_differently_is_not_swapped_for_the_kept_one(first: str, other: str) -> None:
    shared(Decimal(first))

    result = shared(Decimal(other))

    assert result == Decimal(first)
    assert str(result) == other


def test_the_kept_numbers_are_bounded(kept: dict[str, Decimal]) -> None:
    for number in range(SHARED_LIMIT + 10):
        shared(Decimal(number) / 1000)

    assert len(kept) <= SHARED_LIMIT
    assert str(shared(Decimal("0.001"))) == "0.001"


def test_nothing_stays_nothing() -> None:
    assert shared_or_none(None) is None
