"""Jobs in the database: submitted by the app, claimed and run by a worker, finished or
retried with backoff — and queued again when their worker died.

A job is claimed by a conditional UPDATE (queued → running, this worker), so however many
messages ask for it, one worker runs it at a time. While it runs, its worker renews the
heartbeat (`worker.Monitor`); a running job whose heartbeat is three beats old lost its
worker and `recover` queues it again, and the job resumes from what it had committed (each
kind keeps its own progress in the job row, in the same transactions as its work). Whatever
a job writes it writes under `Run.own`, which checks — holding the job's row — that this
worker still holds it: a worker thought dead that wakes up again writes nothing.
"""

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ..database import after_commit, unit_of_work
from ..extensions import db
from ..models import Job, JobFile, JobStatus, utcnow

log = logging.getLogger("jigai.jobs")

QUEUE = "jigai_jobs"  # app.extensions key of the app's queue (see queue.Queue)
ERRORS_KEPT = 1000  # problems a job keeps word for word; the rest are counted
RETRY_SECONDS = 10  # first retry after a failure; doubled for each further attempt
RING_AGAIN_AFTER = timedelta(minutes=5)  # a queued job nobody took: its message was lost

HANDLERS: dict[str, Callable[["Run"], None]] = {}  # job kind → what runs it

_worker: tuple[int, str] | None = None
_naming = threading.Lock()


def worker_name() -> str:
    """This process's name in the jobs it runs: host, pid and a nonce (pids are reused)."""
    global _worker
    with _naming:
        if _worker is None or _worker[0] != os.getpid():
            pid = os.getpid()
            _worker = (pid, f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:6]}")
        return _worker[1]


class Lost(Exception):
    """Another worker has taken the job over (this one was thought dead)."""


class Refused(Exception):
    """The job cannot succeed as asked: it fails at once, without retries."""


def handler(kind: str):
    """Register the function that runs jobs of `kind`; it receives the `Run`."""
    def register(fn):
        HANDLERS[kind] = fn
        return fn
    return register


@dataclass(frozen=True)
class Run:
    """A job as the worker that claimed it runs it."""

    job_id: int
    worker: str

    @property
    def job(self) -> Job:
        return db.session.get(Job, self.job_id, populate_existing=True)

    def file(self) -> bytes | None:
        return db.session.scalar(select(JobFile.data).where(JobFile.job_id == self.job_id))

    def own(self, **values) -> None:
        """In the caller's transaction: check that this worker still holds the job (locking
        its row until the commit), renew its heartbeat and set `values`; Lost if not."""
        moved = db.session.execute(
            update(Job).where(Job.id == self.job_id, Job.worker == self.worker,
                              Job.status == JobStatus.RUNNING)
            .values(heartbeat_at=utcnow(), **values)).rowcount
        if moved != 1:
            raise Lost(f"job {self.job_id} is no longer held by {self.worker}")

    def progress(self, **values) -> None:
        """Record progress (column values) in a transaction of its own."""
        with unit_of_work():
            self.own(**values)


def ring(job_id: int, delay: float | None = None) -> None:
    """Ask a worker to run the job (after `delay` seconds)."""
    current_app.extensions[QUEUE].ring(job_id, delay)


def submit(kind: str, title: str, *, user=None, key: str | None = None,
           data: bytes | None = None, rung: bool = True) -> Job | None:
    """A new queued job, rung once it has committed (`rung`); with the file it works on.
    None when a job with this `key` exists already (a periodic task's period)."""
    try:
        with unit_of_work():
            job = Job(kind=kind, title=title[:200], key=key, status=JobStatus.QUEUED,
                      user_id=user.id if user is not None else None, run_after=utcnow())
            db.session.add(job)
            db.session.flush()
            if data is not None:
                db.session.add(JobFile(job_id=job.id, data=data))
            if rung:
                after_commit(partial(ring, job.id))
    except IntegrityError:
        if key is None:
            raise
        return None
    return job


def run(job_id: int) -> None:
    """Claim the job and run it here; on failure queue it for a retry with backoff, until
    its attempts are spent."""
    config = current_app.config
    worker, now = worker_name(), utcnow()
    with unit_of_work():
        claimed = db.session.execute(
            update(Job).where(Job.id == job_id, Job.status == JobStatus.QUEUED,
                              Job.attempts < config["JOBS_MAX_ATTEMPTS"])
            .values(status=JobStatus.RUNNING, worker=worker, heartbeat_at=now,
                    attempts=Job.attempts + 1, started_at=func.coalesce(Job.started_at, now))
        ).rowcount
        if not claimed:  # another worker has it, it is finished, or its attempts are spent
            db.session.execute(update(Job).where(
                Job.id == job_id, Job.status == JobStatus.QUEUED,
                Job.attempts >= config["JOBS_MAX_ATTEMPTS"]).values(
                status=JobStatus.FAILED, finished_at=now))
            return
    current = Run(job_id, worker)
    job = current.job
    log.info("job %s (%s) attempt %s on %s", job.public_id, job.kind, job.attempts, worker)
    try:
        HANDLERS[job.kind](current)
    except Lost:
        db.session.rollback()
        log.warning("job %s was taken over by another worker", job_id)
        return
    except Refused as err:
        db.session.rollback()
        _end(current, JobStatus.FAILED, drop_file=True, message=str(err))
        return
    except Exception as err:
        db.session.rollback()
        log.exception("job %s failed (attempt %s)", job_id, job.attempts)
        message = f"{type(err).__name__}: {err}"[:2000]
        if job.attempts >= config["JOBS_MAX_ATTEMPTS"]:
            _end(current, JobStatus.FAILED, message=message)
            return
        delay = RETRY_SECONDS * 2 ** (job.attempts - 1)
        _end(current, JobStatus.QUEUED, message=message,
             run_after=utcnow() + timedelta(seconds=delay))
        ring(job_id, delay)
        return
    _end(current, JobStatus.DONE, drop_file=True)


def _end(current: Run, status: JobStatus, drop_file: bool = False, **values) -> None:
    """Leave the job in `status`; its file goes once no attempt can use it (a job out of
    attempts keeps it for `flask jobs retry`)."""
    finished = status in (JobStatus.DONE, JobStatus.FAILED)
    try:
        with unit_of_work():
            current.own(status=status, worker=None,
                        finished_at=utcnow() if finished else None, **values)
            if drop_file:
                db.session.execute(delete(JobFile).where(JobFile.job_id == current.job_id))
    except Lost:
        log.warning("job %s was taken over by another worker", current.job_id)


def keep_errors(job: Job, found: list[dict], count: int) -> dict:
    """Column values that add `count` problems, the first of them kept word for word."""
    room = max(ERRORS_KEPT - len(job.errors or []), 0)
    return {"errors": [*(job.errors or []), *found[:room]], "error_count": job.error_count + count}


def recover() -> list[int]:
    """Queue again the running jobs whose worker stopped beating its heartbeat (it died, or
    lost its connection), and ring again the queued jobs nobody took (the message was lost:
    a broker restarted without its data). Returns the ids of the jobs queued again."""
    config = current_app.config
    now = utcnow()
    stale = now - timedelta(seconds=3 * config["JOBS_HEARTBEAT_SECONDS"])
    lost = db.session.scalars(select(Job.id).where(
        Job.status == JobStatus.RUNNING, Job.heartbeat_at < stale)).all()
    again = []
    for job_id in lost:
        with unit_of_work():
            taken = db.session.execute(update(Job).where(
                Job.id == job_id, Job.status == JobStatus.RUNNING, Job.heartbeat_at < stale)
                .values(status=JobStatus.QUEUED, message="its worker stopped answering",
                        worker=None, run_after=now)).rowcount
        if taken:
            log.warning("job %s lost its worker; queued again", job_id)
            again.append(job_id)
    forgotten = db.session.scalars(select(Job.id).where(
        Job.status == JobStatus.QUEUED, Job.run_after < now - RING_AGAIN_AFTER)).all()
    if forgotten:
        with unit_of_work():
            db.session.execute(update(Job).where(Job.id.in_(forgotten)).values(run_after=now))
    for job_id in [*again, *forgotten]:
        ring(job_id)
    return again


def retry(job: Job) -> None:
    """Queue a failed (or stuck) job again with fresh attempts (`flask jobs retry`)."""
    if job.status == JobStatus.DONE:
        raise Refused("the job is done")
    if job.error_count and job.status == JobStatus.FAILED and job.kind == "import":
        raise Refused("the workbook itself has problems: import a corrected file")
    with unit_of_work():
        db.session.execute(update(Job).where(Job.id == job.id).values(
            status=JobStatus.QUEUED, attempts=0, worker=None, message=None, finished_at=None,
            run_after=utcnow()))
        after_commit(partial(ring, job.id))


def purge() -> int:
    """Forget finished jobs older than JOBS_KEEP_DAYS (their notifications stay)."""
    before = utcnow() - timedelta(days=current_app.config["JOBS_KEEP_DAYS"])
    with unit_of_work():
        return db.session.execute(delete(Job).where(
            Job.status.in_((JobStatus.DONE, JobStatus.FAILED)),
            Job.finished_at < before)).rowcount
