"""The daily reminders and escalations (app/review/reminders.py) as a periodic task: every
morning, once, whichever worker asks. Safe to resume: a step already reminded or escalated
is passed over."""

from ..models import china_today
from ..review import reminders
from . import runner
from .schedule import crontab, periodic


@periodic("reminders", crontab(minute="0", hour="7"), period="day")
def daily(run: runner.Run) -> None:
    done = reminders.run(china_today())
    run.progress(total=len(done.reminded) + len(done.escalated),
                 done=len(done.reminded) + len(done.escalated))
