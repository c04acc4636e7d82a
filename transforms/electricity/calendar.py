"""NERC off-peak holidays: the days the demand windows of marts.electricity_impact leave out.

Holidays dip demand like a Sunday does; leaving them out of both the event windows and the year-earlier windows
keeps a window's mean from moving because a holiday fell inside one of them and not the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based; -1 = last) given weekday (Mon=0) of a month."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def nerc_holidays(years: Iterable[int]) -> list[date]:
    """NERC off-peak holidays: New Year's, Memorial, Independence, Labor, Thanksgiving and Christmas Day.

    These are the days the power industry treats as off-peak (the fixed-date ones move to Monday when they
    fall on a Sunday; NERC does not observe Saturday holidays on Friday).
    """
    out: list[date] = []
    for y in years:
        for fixed in (date(y, 1, 1), date(y, 7, 4), date(y, 12, 25)):
            out.append(fixed + timedelta(days=1) if fixed.weekday() == 6 else fixed)
        out += [_nth_weekday(y, 5, 0, -1), _nth_weekday(y, 9, 0, 1), _nth_weekday(y, 11, 3, 4)]
    return sorted(out)
