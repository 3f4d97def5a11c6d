"""Forgetting spent throttling counts (app/accounts/throttle.py) once a day: a window's
row matters only while its window lasts."""

from ..accounts import throttle
from . import runner
from .schedule import crontab, periodic


@periodic("security_tallies", crontab(minute="40", hour="3"), period="day")
def forget(run: runner.Run) -> None:
    gone = throttle.forget_spent()
    run.progress(total=gone, done=gone)
