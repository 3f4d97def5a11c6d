"""The job worker process (`flask --app wsgi jobs worker`): Huey's consumer, whose threads
run the jobs and whose scheduler asks for the periodic tasks, and beside it the monitor,
which beats the heartbeat of this process's running jobs and queues again the jobs of
workers that stopped beating theirs.

Run as many as you like, on as many hosts (with JIGAI_JOBS_URL on a Redis they share): a job
runs on one worker at a time, and a periodic task once per period.
"""

import logging
import threading

from sqlalchemy import update

from ..database import unit_of_work
from ..extensions import db
from ..models import Job, JobStatus, utcnow
from . import runner

log = logging.getLogger("jigai.jobs")


class Monitor(threading.Thread):
    """Every JOBS_HEARTBEAT_SECONDS: renew the heartbeat of the jobs this process runs, and
    recover the jobs of workers that went silent."""

    def __init__(self, app):
        super().__init__(name="jobs-monitor", daemon=True)
        self.app = app
        self.interval = app.config["JOBS_HEARTBEAT_SECONDS"]
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with self.app.app_context():
                    self.beat()
                    runner.recover()
            except Exception:  # the database restarting, say: try again next beat
                log.exception("jobs monitor")
            self.stopping.wait(self.interval)

    @staticmethod
    def beat() -> None:
        with unit_of_work():
            db.session.execute(update(Job).where(
                Job.status == JobStatus.RUNNING, Job.worker == runner.worker_name())
                .values(heartbeat_at=utcnow()))

    def stop(self) -> None:
        self.stopping.set()


def run_worker(app, threads: int | None = None) -> None:
    """Run the consumer and the monitor until SIGINT or SIGTERM (which let running jobs
    finish; SIGKILL does not, and the monitor of another worker recovers them)."""
    queue = app.extensions[runner.QUEUE]
    consumer = queue.huey.create_consumer(
        workers=threads or app.config["JOBS_WORKERS"], worker_type="thread", periodic=True,
        initial_delay=0.05, max_delay=1.0, check_worker_health=True)
    monitor = Monitor(app)
    monitor.start()
    log.info("jobs worker %s on %s", runner.worker_name(), app.config["JOBS_URL"])
    try:
        consumer.run()
    finally:
        monitor.stop()
