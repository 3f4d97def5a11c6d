"""A step that PostgreSQL picks as a deadlock's victim (issue 17, finding 14) is retried a
bounded number of times, and answers 409 with a message when the retries run out — never a
500. The deadlock is real: a second connection locks, in the opposite order, the rows the
step writes."""

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from app.extensions import db
from app.models import WorkflowEvent
from tests.helpers import Cast, project_payload, wait_until


@pytest.fixture
def url(backend):
    name, url = backend
    if name != "postgresql":
        pytest.skip("deadlocks are PostgreSQL's")
    return url


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    return cast


def _deadlocks(conn) -> int:
    return conn.exec_driver_sql(
        "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()").scalar()


def _step_in_deadlock(app, url, cast, project_id):
    """Fire `submit` while another transaction holds the project's other rows and then asks
    for the project row the step has locked: one of the two must be aborted."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    answer = {}
    with engine.connect() as other:
        deadlocks_before = _deadlocks(other)
        other.commit()
        other.exec_driver_sql("SET deadlock_timeout = '30s'")  # the step detects it first
        key = other.exec_driver_sql("SELECT id FROM projects WHERE public_id = %(p)s",
                                    {"p": project_id}).scalar_one()
        # what the step writes after the project row: its owed rows and the statistics
        other.exec_driver_sql("SELECT id FROM deadlines WHERE project_id = %(k)s FOR UPDATE",
                              {"k": key})
        other.exec_driver_sql("SELECT 1 FROM stats_buckets FOR UPDATE")
        mine = other.exec_driver_sql("SELECT pg_backend_pid()").scalar()

        def fire():
            answer["response"] = cast.api(app.test_client(), "ent_a").fire(
                project_id, "submit", 1)

        step = threading.Thread(target=fire)
        step.start()
        wait_until(lambda: other.exec_driver_sql(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> %(me)s",
            {"me": mine}).scalar(), "the step to wait for a row this transaction holds")
        other.exec_driver_sql("SELECT 1 FROM projects WHERE id = %(k)s FOR UPDATE", {"k": key})
        other.rollback()
        step.join(timeout=60)
        assert _deadlocks(other) > deadlocks_before, "no deadlock was provoked"
    engine.dispose()
    return answer["response"]


def _events(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(WorkflowEvent))


def test_a_step_that_loses_a_deadlock_is_retried_and_succeeds(clean_app, url, cast):
    api = cast.api(clean_app.test_client(), "ent_a")
    project = api.post("/projects", project_payload()).json
    events = _events(clean_app)
    response = _step_in_deadlock(clean_app, url, cast, project["id"])
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.json["status"] == "declared"
    assert _events(clean_app) == events + 1  # written once


def test_a_step_out_of_retries_answers_409_with_a_message(clean_app, url, cast):
    api = cast.api(clean_app.test_client(), "ent_a")
    project = api.post("/projects", project_payload()).json
    events = _events(clean_app)
    retries = clean_app.config["STEP_RETRIES"]
    clean_app.config["STEP_RETRIES"] = 0
    try:
        response = _step_in_deadlock(clean_app, url, cast, project["id"])
    finally:
        clean_app.config["STEP_RETRIES"] = retries
    assert response.status_code == 409, response.get_data(as_text=True)[:300]
    assert response.json["error"] == "conflict"
    assert "try again" in response.json["message"]
    after = api.get(f"/projects/{project['id']}").json
    assert (after["status"], after["version"]) == ("draft", 1)
    assert _events(clean_app) == events
