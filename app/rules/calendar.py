"""Working days on China's official calendar: weekends and statutory holidays off, adjusted
working days (调休, a Saturday or Sunday worked) on. The calendar comes from the maintained
`holidays` package (its China data includes the State Council's adjusted working days)."""

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _year(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year)


def is_working_day(day: date) -> bool:
    calendar = _year(day.year)
    if day in calendar.weekend_workdays:
        return True
    return day.weekday() < 5 and day not in calendar


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start` (start itself not counted)."""
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]: how much of a time limit has been used."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count
