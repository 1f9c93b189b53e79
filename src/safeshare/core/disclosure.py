"""Statistical disclosure control for the counts shown without a case-specific need: small
cells are hidden, and, where the cells add up to a total that is shown, enough further cells
are hidden that none of them can be found again by subtraction.

A cell of 1 to ``threshold - 1`` people is hidden (primary suppression). In a partition —
cases by status, people by age group, whose counts add up to the shown total — one hidden
cell would be the total minus the others, so more cells are hidden (complementary
suppression), the smallest first, until at least two are hidden and together they hold at
least ``threshold`` people (two hidden cells of 1 each would still say "two people, one or
both of them ..."). Zero cells are shown: hiding one hides nothing."""

from __future__ import annotations

from collections.abc import Sequence

Cell = tuple[str, int]


def suppress(
    cells: Sequence[Cell], *, threshold: int, partition: bool
) -> list[tuple[str, int | None]]:
    """``cells`` with the counts to hide as None (see the module). ``partition``: the cells
    add up to a total that is shown beside them."""
    hidden = {key for key, n in cells if 0 < n < threshold}
    if partition and hidden:
        shown = sorted((n, key) for key, n in cells if key not in hidden and n > 0)
        held = sum(n for key, n in cells if key in hidden)
        while shown and (len(hidden) < 2 or held < threshold):
            n, key = shown.pop(0)
            hidden.add(key)
            held += n
    return [(key, None if key in hidden else n) for key, n in cells]
