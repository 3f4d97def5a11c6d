"""The audit trail cannot be rewritten on PostgreSQL, and `audit verify` finds tampering."""

import shutil
import sqlite3

import pytest
import sqlalchemy as sa

from app import create_app
from app.config import TestConfig
from app.extensions import db
from tests.helpers import Cast, project_payload


def walk_a_project(app):
    cast = Cast(app)
    cast.enterprise("ent")
    cast.agency("miit", "miit", "320500")
    client = app.test_client()
    p = cast.api(client, "ent").post("/projects", project_payload()).json
    p = cast.api(client, "ent").fire(p["id"], "submit", 1).json
    p = cast.api(client, "miit").fire(p["id"], "return", p["version"], comment="补充材料").json
    return p


@pytest.mark.parametrize("statement", [
    "UPDATE workflow_events SET comment = 'rewritten'",
    "DELETE FROM workflow_events",
    "TRUNCATE workflow_events CASCADE",
    "UPDATE security_events SET kind = 'login_ok'",
    "DELETE FROM security_events",
])
def test_postgres_refuses_to_change_the_audit_tables(clean_app, backend, statement):
    if backend[0] != "postgresql":
        pytest.skip("database triggers are PostgreSQL's; SQLite relies on the hash chain")
    walk_a_project(clean_app)
    clean_app.test_client().get("/api/v1/projects")  # a refused request: a security event
    with clean_app.app_context():
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.exec_driver_sql(statement)
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM workflow_events").scalar() == 3


def verify(path):
    app = create_app(type("Copy", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}))
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


@pytest.mark.parametrize(("tamper", "found"), [
    ("UPDATE workflow_events SET comment = '同意入库' WHERE seq = 3", "altered"),
    ("UPDATE workflow_events SET actor_name = '他人' WHERE seq = 1", "altered"),
    ("DELETE FROM workflow_events WHERE seq = 2", "event is missing"),
    ("UPDATE projects SET status = 'declared'", "status declared but the last event ends in "
                                                "returned"),
])
def test_audit_verify_names_the_first_broken_event_in_a_sqlite_copy(clean_app, backend,
                                                                     tmp_path, tamper, found):
    if backend[0] != "sqlite":
        pytest.skip("works on a copy of the SQLite file")
    project = walk_a_project(clean_app)
    source = clean_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    with clean_app.app_context():
        db.engine.dispose()  # everything written; the WAL checkpointed into the file
    copy = tmp_path / "copy.sqlite3"
    with sqlite3.connect(source) as live, sqlite3.connect(copy) as target:
        live.backup(target)
    code, output = verify(copy)
    assert code == 0 and "1 projects, 3 events" in output

    with sqlite3.connect(copy) as conn:
        conn.execute(tamper)
    code, output = verify(copy)
    assert code == 1
    assert project["id"] in output and found in output, output
    shutil.rmtree(tmp_path, ignore_errors=True)
