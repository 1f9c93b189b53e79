"""Disclosure control of the counts shown without a case-specific need: small cells hidden,
and in a partition of a shown total no hidden cell can be found again by subtraction."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from safeshare.core.disclosure import suppress

THRESHOLD = 5


def test_a_lone_small_cell_takes_the_next_smallest_with_it() -> None:
    # total 11: open 10, closed 1 — "closed" alone hidden would be 11 - 10.
    cells = [("closed", 1), ("open", 10)]
    assert suppress(cells, threshold=THRESHOLD, partition=True) == [
        ("closed", None),
        ("open", None),
    ]
    assert suppress(cells, threshold=THRESHOLD, partition=False) == [
        ("closed", None),
        ("open", 10),
    ]


def test_hidden_cells_together_hold_at_least_the_threshold() -> None:
    cells = [("child", 1), ("adult", 40), ("unknown", 2), ("other", 7)]
    shown = dict(suppress(cells, threshold=THRESHOLD, partition=True))
    assert shown == {"child": None, "adult": 40, "unknown": None, "other": None}


def test_zero_cells_and_large_cells_stay_shown() -> None:
    cells = [("a", 0), ("b", 12), ("c", 30)]
    assert suppress(cells, threshold=THRESHOLD, partition=True) == cells


@settings(max_examples=500)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=6))
def test_no_hidden_cell_is_found_by_subtraction(counts: list[int]) -> None:
    cells = [(f"k{i}", n) for i, n in enumerate(counts)]
    out = suppress(cells, threshold=THRESHOLD, partition=True)
    total = sum(counts)
    hidden = [n for (_, n), (_, shown) in zip(cells, out, strict=True) if shown is None]
    # Every small cell is hidden; a shown cell keeps its count.
    for (_, n), (_, shown) in zip(cells, out, strict=True):
        assert shown is None if 0 < n < THRESHOLD else shown in (None, n)
    if hidden and total >= THRESHOLD:  # the total is shown beside the cells
        assert len(hidden) >= 2
        assert sum(hidden) >= THRESHOLD
