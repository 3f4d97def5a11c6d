"""Periodic tasks: work that runs on a schedule — reminders of steps falling due,
escalations of overdue ones, the monthly lapse check, bulletins — once per period, however
many workers on however many hosts are running.

Add one with the decorator, in a module that `app.jobs.queue` imports:

    @periodic("lapse_check", crontab(minute="30", hour="1", day="1"), period="month")
    def lapse_check(run: Run) -> None:
        ...  # the work; it may call run.progress(total=…, done=…) as it goes

Every worker's scheduler asks for the task when the crontab matches (China time); each ask
submits a job keyed by the task's name and period (`lapse_check@2027-01`), and the database's
unique key lets the first ask through and turns the others away — so a task runs once per
period, never twice, even when two hosts' schedulers ask at the same moment. The job is
then an ordinary job: listed by `flask jobs list`, queued again if its worker dies (make
the work safe to resume: it may have done part of it), retried with backoff when it fails.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from huey import crontab

from ..models import CHINA, UTC_ZONE, utcnow
from . import runner

log = logging.getLogger("jigai.jobs")

__all__ = ["PERIODIC", "Periodic", "china_time", "crontab", "period_key", "periodic"]

FORMATS = {"minute": "%Y-%m-%dT%H:%M", "hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d",
           "month": "%Y-%m"}


@dataclass(frozen=True)
class Periodic:
    name: str
    schedule: Callable[[datetime], bool]  # a huey crontab, read in China time
    period: str  # minute | hour | day | month: the run's unique key
    work: Callable[[runner.Run], None]


PERIODIC: list[Periodic] = []


def periodic(name: str, schedule: Callable[[datetime], bool], period: str):
    """Register `work(run)` to run when `schedule` matches, once per `period`."""
    if period not in FORMATS:
        raise ValueError(f"period must be one of {', '.join(FORMATS)}")

    def register(work):
        PERIODIC.append(Periodic(name, schedule, period, work))
        runner.handler(name)(work)
        return work
    return register


def china_time(naive_utc: datetime) -> datetime:
    """Naive UTC (the database's and Huey's clock) as naive China time (the schedules')."""
    return naive_utc.replace(tzinfo=UTC_ZONE).astimezone(CHINA).replace(tzinfo=None)


def period_key(task: Periodic, at: datetime | None = None) -> str:
    """The task's unique key for the period `at` (naive UTC, default now) falls in."""
    return f"{task.name}@{china_time(at or utcnow()).strftime(FORMATS[task.period])}"


def start(task: Periodic, at: datetime | None = None) -> bool:
    """One scheduler's ask (at `at`, default now): the period's job, run here — unless another
    ask got it first (False)."""
    key = period_key(task, at)
    job = runner.submit(task.name, key, key=key, rung=False)
    if job is None:
        log.info("periodic %s: taken by another worker", key)
        return False
    runner.run(job.id)
    return True
