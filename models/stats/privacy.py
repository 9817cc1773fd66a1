"""Small groups: no statistic names a person. :func:`protect` hides counts of 1 to 4 as "<5",
and further cells as "*" while a hidden count could be worked out from the others (the rule
is spelt out in the docstring of :mod:`models.stats`).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from models.stats.tables import MIN_GROUP


@dataclass(frozen=True, slots=True)
class Cell:
    """One count as shown: ``count`` is None when hidden (``display`` "<5" or "*")."""

    count: int | None
    display: str
    suppressed: bool

    @classmethod
    def shown(cls, n: int) -> Cell:
        return cls(n, str(n), False)


SMALL = "<5"
COMPLEMENT = "*"


def protect(
    counts: Sequence[int],
    groups: Sequence[Hashable] | None = None,
    *,
    complementary: bool = True,
) -> list[Cell]:
    """Apply the small-group rule to one breakdown (see the module's docstring).

    A count of 1 to ``MIN_GROUP - 1`` is hidden as "<5". With ``complementary``, in each group
    (all cells, or the cells sharing a ``groups`` key) further non-zero cells are hidden as "*",
    smallest first, while someone knowing the group's total could still work out a "<5" count
    from the cells shown (a "<5" cell holds 1-4, a "*" cell at least 5).
    """
    hidden: dict[int, str] = {i: SMALL for i, n in enumerate(counts) if 0 < n < MIN_GROUP}
    if complementary and hidden:
        keys: Sequence[Hashable] = groups if groups is not None else [None] * len(counts)
        members_of: dict[Hashable, list[int]] = {}
        for i, key in enumerate(keys):
            members_of.setdefault(key, []).append(i)
        for members in members_of.values():
            while _recoverable(members, counts, hidden):
                shown = [i for i in members if i not in hidden and counts[i] > 0]
                if not shown:
                    break
                hidden[min(shown, key=lambda i: (counts[i], i))] = COMPLEMENT
    return [
        Cell(None, hidden[i], True) if i in hidden else Cell.shown(n) for i, n in enumerate(counts)
    ]


def _recoverable(members: list[int], counts: Sequence[int], hidden: dict[int, str]) -> bool:
    """Could a "<5" count of the group be worked out from the group total and the cells shown?"""
    small = [i for i in members if hidden.get(i) == SMALL]
    if not small:
        return False
    large = sum(1 for i in members if hidden.get(i) == COMPLEMENT)
    hidden_total = sum(counts[i] for i in members if i in hidden)
    others_low = (len(small) - 1) + large * MIN_GROUP
    others_high = math.inf if large else (len(small) - 1) * (MIN_GROUP - 1)
    low = max(1, hidden_total - others_high)
    high = min(MIN_GROUP - 1, hidden_total - others_low)
    return high <= low


def protect_one(n: int) -> Cell:
    return protect([n], complementary=False)[0]


def rate(numerator: int, denominator: int) -> float | None:
    """A share, or None when fewer than MIN_GROUP registrations lie under it."""
    if denominator < MIN_GROUP:
        return None
    return round(numerator / denominator, 4)
