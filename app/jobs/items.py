"""The daily check of items to follow (容缺, app/review/items.py) as a periodic task: once a
day, whichever worker asks. Safe to resume: a project already returned is passed over."""

from ..models import china_today
from ..review import items
from . import runner
from .schedule import crontab, periodic


@periodic("items_check", crontab(minute="45", hour="7"), period="day")
def daily(run: runner.Run) -> None:
    done = items.check(china_today())
    run.progress(total=len(done.returned), done=len(done.returned))
