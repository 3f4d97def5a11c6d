"""The daily check for stalled and lapsed projects (app/review/progress.py) as a periodic
task: once a day, whichever worker asks. Safe to resume: a project already warned is
passed over."""

from ..models import china_today
from ..review import progress
from . import runner
from .schedule import crontab, periodic


@periodic("progress_check", crontab(minute="30", hour="7"), period="day")
def daily(run: runner.Run) -> None:
    done = progress.check(china_today())
    run.progress(total=len(done.warned), done=len(done.warned))
