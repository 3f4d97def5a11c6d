"""The queue between the app and its workers: Huey, on a SQLite file or on Redis.

Huey because it is the maintained queue that runs both where this app runs: on a SQLite
file (the default: `make run` needs no server beside the app) and on Redis (deployment,
any number of worker hosts), with a scheduler for periodic tasks and delayed runs for
retries. It does not redeliver the message of a worker that died (it has no
acknowledgements); the jobs' own heartbeat in the database does that (`runner.recover`),
and works the same on either storage.

Each app has its own queue (`Queue`, in `app.extensions`), so an app built for a test does
not change another's. With JOBS_IMMEDIATE (tests) a job runs at once, in the caller.
"""

import logging
import threading
import time
from pathlib import Path

from huey import Huey
from huey.storage import RedisStorage, SqliteStorage

from . import imports, items, outbox, progress, reminders, runner, schedule, tallies  # noqa: F401 — their jobs register here

log = logging.getLogger("jigai.jobs")

MAIL_COALESCE = 1.0  # seconds: the steps of one second ring the mail worker once


def _huey(config) -> Huey:
    name = config["JOBS_NAME"]
    if config["JOBS_IMMEDIATE"]:
        return Huey(name, results=False, immediate=True)
    url = config["JOBS_URL"]
    if url.startswith(("redis://", "rediss://", "unix://")):
        return Huey(name, results=False, storage_class=RedisStorage, url=url)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return Huey(name, results=False, storage_class=SqliteStorage, filename=str(path))
    raise RuntimeError(f"JIGAI_JOBS_URL must be sqlite:///… or redis://…, not {url!r}")


class Queue:
    """The app's queue: its Huey, the tasks the workers run, and the app's ways to ring."""

    def __init__(self, app):
        self.app = app
        self.immediate = app.config["JOBS_IMMEDIATE"]
        self.huey = huey = _huey(app.config)
        self._lock = threading.Lock()
        self._quiet_until = 0.0
        self._mail_waiting = False

        @huey.task(name="jigai.run_job")
        def run_job(job_id: int) -> None:
            with app.app_context():
                runner.run(job_id)

        @huey.task(name="jigai.send_mail")
        def send_mail() -> None:
            with app.app_context():
                outbox.send_pending()

        for task in schedule.PERIODIC:
            self._periodic(task)
        self.run_job, self.send_mail = run_job, send_mail

    def _periodic(self, task: schedule.Periodic) -> None:
        app = self.app

        def ask() -> None:
            with app.app_context():
                schedule.start(task)

        self.huey.periodic_task(lambda at: task.schedule(schedule.china_time(at)),
                                name=f"jigai.periodic.{task.name}")(ask)

    def ring(self, job_id: int, delay: float | None = None) -> None:
        """Ask a worker to run the job. A broker that cannot be reached fails nothing: the
        job is in the database, and the periodic sweep rings again for it."""
        try:
            if delay:
                self.run_job.schedule((job_id,), delay=delay)
            else:
                self.run_job(job_id)
        except Exception:
            if self.immediate:
                raise
            log.exception("could not ring for job %s; the sweep will", job_id)

    def ring_mail(self) -> None:
        """Ask a worker to send the mail steps have written: at once, and at most once more
        in the following second however many steps ring meanwhile."""
        if self.immediate:
            self.send_mail()
            return
        now = time.monotonic()
        with self._lock:
            if now >= self._quiet_until:
                self._quiet_until = now + MAIL_COALESCE
            else:
                if not self._mail_waiting:
                    self._mail_waiting = True
                    timer = threading.Timer(self._quiet_until - now, self._ring_waiting_mail)
                    timer.daemon = True
                    timer.start()
                return
        self._enqueue_mail()

    def _ring_waiting_mail(self) -> None:
        with self._lock:
            self._mail_waiting = False
            self._quiet_until = time.monotonic() + MAIL_COALESCE
        self._enqueue_mail()

    def _enqueue_mail(self) -> None:
        try:
            self.send_mail()
        except Exception:
            log.exception("could not ring for mail; the minute's sweep sends it")


def init_app(app) -> None:
    app.extensions[runner.QUEUE] = Queue(app)
