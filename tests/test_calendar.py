"""Working days follow China's official calendar, including adjusted working days."""

from datetime import date

import pytest

from app.rules.calendar import add_working_days, is_working_day, working_days_between


@pytest.mark.parametrize("day", [date(2024, 10, d) for d in range(1, 8)])
def test_national_day_week_2024_is_off(day):
    assert not is_working_day(day)


@pytest.mark.parametrize("day", [date(2024, 9, 29), date(2024, 10, 12)])  # 调休: Sun, Sat
def test_adjusted_weekend_days_are_worked(day):
    assert day.weekday() >= 5 and is_working_day(day)


def test_ordinary_weekend_is_off():
    assert not is_working_day(date(2024, 10, 13)) and not is_working_day(date(2024, 9, 28))


def test_five_working_days_from_friday_before_national_day():
    # Fri 27 Sep: Sun 29 (调休) 1, Mon 30 2, [1-7 Oct off], Tue 8 3, Wed 9 4, Thu 10 5
    assert add_working_days(date(2024, 9, 27), 5) == date(2024, 10, 10)


def test_counting_across_the_holiday_and_the_adjusted_saturday():
    # Mon 30 Sep to Sat 12 Oct: 8, 9, 10, 11 and the 调休 Saturday 12 Oct
    assert working_days_between(date(2024, 9, 30), date(2024, 10, 12)) == 5
    assert add_working_days(date(2024, 9, 30), 5) == date(2024, 10, 12)
