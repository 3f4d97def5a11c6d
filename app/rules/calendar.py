"""Working days on China's official calendar: weekends and statutory holidays off, adjusted
working days (调休, a Saturday or Sunday worked) on. The calendar comes from the maintained
`holidays` package (its China data includes the State Council's adjusted working days).

Every step counts working days (a deadline's due date, a stay's length), so each year's
working days are worked out once, as sorted day numbers, and counted by bisection.
"""

from bisect import bisect_right
from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _working(year: int) -> tuple[int, ...]:
    """The year's working days, as ordinals in order."""
    calendar = holidays.China(years=year)
    day, found = date(year, 1, 1), []
    while day.year == year:
        if day in calendar.weekend_workdays or (day.weekday() < 5 and day not in calendar):
            found.append(day.toordinal())
        day += timedelta(days=1)
    return tuple(found)


def is_working_day(day: date) -> bool:
    days = _working(day.year)
    index = bisect_right(days, day.toordinal())
    return index > 0 and days[index - 1] == day.toordinal()


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start` (start itself not counted)."""
    if days <= 0:
        return start
    year, after, remaining = start.year, start.toordinal(), days
    while True:
        working = _working(year)
        index = bisect_right(working, after)
        if remaining <= len(working) - index:
            return date.fromordinal(working[index + remaining - 1])
        remaining -= len(working) - index
        year += 1


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]: how much of a time limit has been used."""
    if end <= start:
        return 0
    return sum(bisect_right(_working(year), end.toordinal())
               - bisect_right(_working(year), start.toordinal())
               for year in range(start.year, end.year + 1))


def working_days_left(today: date, due: date) -> int:
    """Working days from today to a due day: negative once it has passed (how late)."""
    if due >= today:
        return working_days_between(today, due)
    return -working_days_between(due, today)
