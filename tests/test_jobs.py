"""Background work: the request only queues it; jobs retry with backoff and are listed and
retried from the command line; a periodic task runs once per period whoever asks."""

import io
import logging
import threading
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.jobs import outbox, runner, schedule
from app.jobs.runner import QUEUE
from app.models import Job, MailState, Notification, Project, User
from tests.helpers import Cast, free_port, import_row, import_workbook, project_payload
from tests.web import csrf_token, signed_in


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    cast.agency("miit", "miit", "320500")
    with clean_app.app_context():
        for user in db.session.scalars(select(User)):
            user.email = f"{user.username}@example.cn"
        db.session.commit()
    return cast


@pytest.fixture
def queued(clean_app, backend, tmp_path):
    """An app whose requests ring a real queue (a SQLite file) that no worker serves."""
    web = create_app(type("Queued", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": backend[1], "JOBS_IMMEDIATE": False,
        "JOBS_URL": f"sqlite:///{tmp_path}/jobs.sqlite3", "MAIL_LOG": str(tmp_path / "mail.log")}))
    yield web
    with web.app_context():
        for engine in db.engines.values():
            engine.dispose()


def drain(app) -> None:
    """Run what the queue holds, as a worker would, until it is empty."""
    huey = app.extensions[QUEUE].huey
    while (task := huey.dequeue()) is not None:
        huey.execute(task)


def mail_states(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Notification.mail_state).order_by(Notification.id)))


def test_the_request_only_queues_the_work(queued, cast, tmp_path):
    """Mail was sent in the request, and imports ran in a thread of the web worker: now the
    request writes the mail to the outbox and queues the import, and a worker does both."""
    api = cast.api(queued.test_client(), "ent_a")
    project = api.post("/projects", project_payload()).json
    assert api.fire(project["id"], "submit", project["version"]).status_code == 200
    assert mail_states(queued) == ["pending"]  # written with the step, not sent
    assert not (tmp_path / "mail.log").exists()
    assert queued.extensions[QUEUE].huey.pending_count() == 1  # the ring for the worker

    client = signed_in(queued, "miit")
    with queued.app_context():
        code = cast.user("ent_a").organization.credit_code
    token, threads = csrf_token(client, "/imports"), set(threading.enumerate())
    client.post("/imports", data={"csrf_token": token, "file": (
        io.BytesIO(import_workbook([import_row(code, 7)])), "一行.xlsx")},
        content_type="multipart/form-data")
    assert set(threading.enumerate()) <= threads  # no thread left running the import
    with queued.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == "import"))
        assert (job.status, job.attempts) == ("queued", 0)
        assert db.session.scalar(select(func.count()).select_from(Project)) == 1

        db.session.rollback()  # end this read transaction: see what the worker writes
        drain(queued)  # what a worker does with the rings
        job = db.session.get(Job, job.id, populate_existing=True)
        assert (job.status, job.created) == ("done", 1), (job.status, job.message, job.errors)
    assert mail_states(queued)[0] == "sent"  # the submit step's; the import's rings a second later
    assert "miit@example.cn" in (tmp_path / "mail.log").read_text("utf-8")


def test_a_failing_job_is_retried_with_backoff_then_listed_and_retried(clean_app, cast,
                                                                        caplog):
    clean_app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    try:
        api = cast.api(clean_app.test_client(), "ent_a")
        project = api.post("/projects", project_payload()).json
        api.fire(project["id"], "submit", project["version"])  # rings: the mail job fails
        with clean_app.app_context():
            job = db.session.scalar(select(Job).where(Job.kind == "mail"))
            waits = []
            while job.status == "queued":
                assert job.message.startswith("ConnectionRefusedError")
                waits.append(round((job.run_after - job.heartbeat_at).total_seconds()))
                runner.run(job.id)  # what the delayed ring does when it comes due
                job = db.session.get(Job, job.id, populate_existing=True)
            assert job.status == "failed" and job.attempts == clean_app.config["JOBS_MAX_ATTEMPTS"]
            public_id = str(job.public_id)
        assert waits == [10, 20, 40, 80]  # each wait twice the last
        assert mail_states(clean_app) == ["sending"]  # claimed, never sent
    finally:
        clean_app.config.update(MAIL_BACKEND="log", MAIL_PORT=25)

    cli = clean_app.test_cli_runner()
    listing = cli.invoke(args=["jobs", "list", "--status", "failed"]).output
    assert public_id in listing and "ConnectionRefusedError" in listing
    with caplog.at_level(logging.INFO, logger="jigai.mail"):
        assert cli.invoke(args=["jobs", "retry", public_id]).exit_code == 0
    assert [r.getMessage().split(":")[0] for r in caplog.records if r.name == "jigai.mail"] == [
        "mail to miit@example.cn"]
    assert mail_states(clean_app) == ["sent"]
    refused = cli.invoke(args=["jobs", "retry", public_id])
    assert refused.exit_code == 1 and "is done" in refused.output
    assert cli.invoke(args=["jobs", "retry", str(uuid.uuid4())]).exit_code == 1


def test_a_periodic_task_runs_once_per_period_whoever_asks(clean_app):
    """Every worker's scheduler asks; the period's key lets one ask through."""
    sweep = next(t for t in schedule.PERIODIC if t.name == "outbox")
    at = datetime(2026, 12, 31, 16, 30, 20)  # 00:30 on 1 January in China
    answers, ready = [], threading.Barrier(2)

    def host():
        with clean_app.app_context():
            ready.wait()
            answers.append(schedule.start(sweep, at))
            db.session.remove()

    hosts = [threading.Thread(target=host) for _ in range(2)]
    for thread in hosts:
        thread.start()
    for thread in hosts:
        thread.join()
    assert sorted(answers) == [False, True]
    with clean_app.app_context():
        assert schedule.start(sweep, at + timedelta(seconds=30)) is False  # same minute
        assert schedule.start(sweep, at + timedelta(minutes=1)) is True
        runs = db.session.execute(select(Job.key, Job.status).where(Job.kind == "outbox")
                                  .order_by(Job.id)).all()
    assert runs == [("outbox@2027-01-01T00:30", "done"), ("outbox@2027-01-01T00:31", "done")]
    monthly = schedule.Periodic("lapse_check", sweep.schedule, "month", sweep.work)
    assert schedule.period_key(monthly, at) == "lapse_check@2027-01"


def test_the_outbox_sweep_sends_what_no_ring_reached(queued, cast, tmp_path):
    api = cast.api(queued.test_client(), "ent_a")
    project = api.post("/projects", project_payload()).json
    api.fire(project["id"], "submit", project["version"])
    queued.extensions[QUEUE].huey.flush()  # the ring is lost (a broker restarted empty)
    assert mail_states(queued) == ["pending"]
    with queued.app_context():
        assert schedule.start(next(t for t in schedule.PERIODIC if t.name == "outbox"))
    assert mail_states(queued) == [MailState.SENT]
    assert outbox.message_id(queued, 1).startswith("<notification-")
