"""The job worker as a process of its own, on the real queue: the SQLite file (the default)
beside SQLite, Redis beside PostgreSQL. Killed with SIGKILL in the middle of a 10,000-row
import and of the mail batch it sets off, a second worker finishes both: every row imported
once, every mail sent once, the audit trail and the statistics intact — and while the import
ran, other writers were not kept waiting for it."""

import json
import os
import signal
import subprocess
import sys
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.jobs import imports as import_jobs
from app.jobs.outbox import message_id
from app.jobs.runner import QUEUE
from app.models import Job, MailState, Notification, Project, User, WorkflowEvent
from tests.helpers import ROOT, Cast, import_row, import_workbook, project_payload, wait_until
from tests.web import signed_in

pytestmark = pytest.mark.slow
ROWS = 10_000


@pytest.fixture
def queue(clean_app, backend, tmp_path):
    """A web app that rings the real queue, and the environment of its worker processes."""
    name, url = backend
    queue_url = (f"sqlite:///{tmp_path}/jobs.sqlite3" if name == "sqlite"
                 else os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    settings = {"SQLALCHEMY_DATABASE_URI": url, "JOBS_IMMEDIATE": False, "JOBS_URL": queue_url,
                "JOBS_NAME": f"jigai-test-{uuid.uuid4().hex[:8]}", "JOBS_HEARTBEAT_SECONDS": 0.5,
                "MAIL_LOG": str(tmp_path / "mail.log")}
    web = create_app(type("Web", (TestConfig,), settings))
    env = {**os.environ, "DATABASE_URL": url, "JIGAI_JOBS_URL": queue_url,
           "JIGAI_JOBS_NAME": settings["JOBS_NAME"], "JIGAI_JOBS_HEARTBEAT_SECONDS": "0.5",
           "MAIL_LOG": settings["MAIL_LOG"], "JIGAI_INSTANCE_DIR": str(tmp_path),
           "SECRET_KEY": "test", "JIGAI_MAIL_BATCH": "500"}
    yield web, env, tmp_path
    web.extensions[QUEUE].huey.flush()  # the queue's keys on the shared Redis
    with web.app_context():
        for engine in db.engines.values():
            engine.dispose()


@contextmanager
def worker(env, log_path):
    """`flask jobs worker` in a process of its own."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs",
                                    "worker"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def mailed(path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["message_id"] for line in path.read_text("utf-8").splitlines()]


def state(app, job_id):
    with app.app_context():
        job = db.session.get(Job, job_id)
        open_mail = db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.mail_state.in_((MailState.PENDING, MailState.SENDING))))
        sending = db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.mail_state == MailState.SENDING))
        return job.status, job.stage, job.created, job.attempts, open_mail, sending


@pytest.mark.timeout(1200)
def test_a_killed_worker_leaves_nothing_undone_and_nothing_twice(queue, clean_app):
    web, env, tmp = queue
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    cast.agency("suzhou_miit", "miit", "320500")
    with clean_app.app_context():
        owner = cast.user("ent_a")
        owner.email = "ent_a@example.cn"
        code = owner.organization.credit_code
        db.session.commit()
    data = import_workbook([import_row(code, i) for i in range(ROWS)])
    with web.app_context():
        job_id = import_jobs.start_import(cast.user("suzhou_miit"), data, "万行.xlsx").id
        public_id = db.session.get(Job, job_id).public_id
    mail_log = tmp / "mail.log"

    with worker(env, tmp / "worker-a.log") as first:
        wait_until(lambda: state(web, job_id)[2] >= 1000, "the first chunks", timeout=600)
        # other writers go on meanwhile: a create is answered while the import still runs
        created = cast.api(web.test_client(), "ent_a").post("/projects", project_payload())
        assert created.status_code == 201
        progress = signed_in(web, "suzhou_miit").get(f"/imports/{public_id}/progress").json
        assert progress["status"] == "running" and 0 < progress["done"] < progress["total"]
        assert state(web, job_id)[0] == "running"

        def middle():  # rows committed, mail gone out, a batch claimed and not all sent
            status, stage, created, _a, _open, sending = state(web, job_id)
            return (stage == "writing" and 2000 <= created < ROWS - 2000 and sending
                    and len(mailed(mail_log)) >= 100)
        wait_until(middle, "the import and the mail half-way", timeout=600, every=0.02)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    at_kill = state(web, job_id)
    assert at_kill[0] == "running" and at_kill[2] < ROWS and at_kill[5] > 0
    assert 0 < len(mailed(mail_log)) < ROWS

    with worker(env, tmp / "worker-b.log"):
        wait_until(lambda: (s := state(web, job_id))[0] == "done" and s[4] == 0,
                   "the second worker to finish the import and the mail", timeout=900)

    status, stage, made, attempts, open_mail, _sending = state(web, job_id)
    assert (status, made, attempts) == ("done", ROWS, 2)
    with web.app_context():
        assert db.session.scalar(select(func.count()).select_from(Project)) == ROWS + 1
        rows = db.session.scalars(select(WorkflowEvent.data).where(
            WorkflowEvent.trigger == "import")).all()
        assert sorted(d["imported_row"] for d in rows) == list(range(2, ROWS + 2))
        told = db.session.scalars(select(Notification.id).join(User).where(
            User.email.is_not(None))).all()
        assert len(told) == ROWS
        sent = mailed(mail_log)
        assert len(sent) == len(set(sent)) == ROWS  # every mail once, none twice
        assert set(sent) == {message_id(web, n) for n in told}
    cli = web.test_cli_runner()
    for command in (["audit", "verify"], ["stats", "verify"]):
        result = cli.invoke(args=command)
        assert result.exit_code == 0, result.output
