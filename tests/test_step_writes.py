"""A step is decided on a snapshot read with one query and written as one change: the snapshot
reads every value as the ORM does, the change stores every value as the ORM would, and a step
that loses the race to another actor leaves no trace."""

import uuid
from datetime import datetime

import pytest
from sqlalchemy import func, select, text

from app.accounts.principals import principal_for_token
from app.errors import Conflict
from app.extensions import db
from app.models import (
    Deadline,
    Notification,
    Project,
    StageTime,
    User,
    WorkflowEvent,
)
from app.workflow import engine, workflows
from app.workflow.changeset import Update
from app.workflow.deadlines import deadline_writes
from app.workflow.state import COLUMNS, DeadlineRow, ProjectState, read_state
from app.workflow.verify import verify_trail
from tests.helpers import Cast, project_payload


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent")
    cast.agency("miit", "miit", "320500")
    cast.agency("miit_province", "miit", "320000")
    cast.bank("bank", serves=("320500", "320000"))
    return cast


def declared(client, cast) -> dict:
    api = cast.api(client, "ent")
    project = api.post("/projects", project_payload(total_investment="5000.1234")).json
    return api.fire(project["id"], "submit", project["version"]).json


def test_the_decision_reads_the_project_as_the_orm_does(client, cast):
    project = declared(client, cast)
    with client.application.app_context():
        orm = db.session.scalar(select(Project).where(Project.public_id == uuid.UUID(project["id"])))
        state = read_state(orm.id, cast.user("miit"))
        assert {name: getattr(state, name) for name in COLUMNS} == {
            name: getattr(orm, name) for name in COLUMNS}
        assert state.has_equipment and state.needs_financing
        last = db.session.scalar(select(WorkflowEvent.hash).where(
            WorkflowEvent.project_id == orm.id, WorkflowEvent.seq == orm.version))
        assert state.last_hash == last
        assert [(d.id, d.role, d.due_on, d.met_at) for d in state.deadlines] == [
            (d.id, d.role, d.due_on, d.met_at) for d in orm.deadlines]
        assert state.deadlines  # the library agency owes the acceptance


def test_an_api_caller_reads_as_its_orm_user(clean_app, cast):
    with clean_app.app_context():
        for username in ("miit", "bank"):
            user = cast.user(username)
            caller = principal_for_token(cast.tokens[username])
            org, seen = user.organization, caller.organization
            assert (caller.id, caller.display_name, caller.role, caller.is_admin) == (
                user.id, user.display_name, user.role, user.is_admin)
            assert (seen.id, seen.kind, seen.name, seen.jurisdiction.code,
                    seen.jurisdiction.level) == (org.id, org.kind, org.name,
                                                 org.jurisdiction.code, org.jurisdiction.level)
            assert sorted(a.code for a in seen.service_areas) == sorted(
                a.code for a in org.service_areas)
            assert seen.serves("320506") == org.serves("320506")
        assert principal_for_token("jg_not-a-token") is None


def test_what_a_step_writes_reads_back_exactly(client, cast, monkeypatch):
    """Timestamps on a whole second (no microseconds) are where a hand-made text format would
    differ from the ORM's; the audit chain, recomputed from the stored rows, must still hold."""
    project = declared(client, cast)
    moment = datetime(2026, 12, 1, 8, 30, 0)
    monkeypatch.setattr(engine, "utcnow", lambda: moment)
    returned = cast.api(client, "miit").fire(project["id"], "return", project["version"],
                                            comment="请补充能效证明")
    assert returned.status_code == 200
    with client.application.app_context():
        orm = db.session.scalar(select(Project).where(Project.public_id == uuid.UUID(project["id"])))
        event = db.session.scalar(select(WorkflowEvent).where(
            WorkflowEvent.project_id == orm.id, WorkflowEvent.seq == orm.version))
        stay = db.session.scalar(select(StageTime).where(StageTime.project_id == orm.id,
                                                         StageTime.status == "declared"))
        notice = db.session.scalar(select(Notification).join(User).where(
            User.username == "ent"))
        assert (orm.status_changed_at, event.created_at, stay.left_at, notice.created_at) == (
            moment, moment, moment, moment)
        assert (event.trigger, event.comment, stay.status) == ("return", "请补充能效证明",
                                                               "declared")
        assert notice.params["comment"] == "请补充能效证明"
        assert verify_trail().first_break is None
        if db.engine.dialect.name == "sqlite":  # stored text compares as the ORM's does
            stored = db.session.execute(text(
                "SELECT created_at FROM workflow_events WHERE project_id = :p AND seq = :s"),
                {"p": orm.id, "s": orm.version}).scalar()
            assert stored == "2026-12-01 08:30:00.000000"


def test_a_step_that_loses_the_race_writes_nothing(client, cast):
    project = declared(client, cast)
    with client.application.app_context():
        orm = db.session.scalar(select(Project).where(Project.public_id == uuid.UUID(project["id"])))
        stale = read_state(orm.id, cast.user("miit"))
        db.session.remove()

    accepted = cast.api(client, "miit_province").fire(project["id"], "accept",
                                                     project["version"])
    assert accepted.status_code == 200

    def written():
        return tuple(db.session.scalar(select(func.count()).select_from(table))
                     for table in (WorkflowEvent, StageTime, Notification, Deadline))

    with client.application.app_context():
        before = written()
        with pytest.raises(Conflict) as refused:
            workflows().fire(stale, "return", cast.user("miit"), version=stale.version,
                             comment="晚了一步")
        assert refused.value.status == 409
        assert written() == before
        db.session.expire_all()
        assert db.session.get(Project, orm.id).status.value == "commitment_filing"


def test_a_new_deadline_for_the_same_step_takes_over_its_row():
    """Deadlines are replaced in the step's one statement, where removing a row and adding one
    with the same (project, role, level, trigger) would collide: the new one updates the old
    row."""
    old = DeadlineRow(role="agency:miit", level="", trigger="accept", started_on=datetime(
        2026, 1, 5).date(), sla_days=20, used_days=0, due_on=datetime(2026, 2, 2).date(),
        project_id=7, id=41)
    state = ProjectState({"id": 7, "jurisdiction_code": "320506", "province_code": "320000",
                          "city_code": "320500", "batch_year": 2026}, deadlines=[old])
    state.deadlines.clear()
    state.deadlines.append(state.new_deadline(
        role="agency:miit", level="", trigger="accept", started_on=datetime(2026, 1, 9).date(),
        sla_days=10, used_days=0, due_on=datetime(2026, 1, 23).date()))
    (write,) = deadline_writes(state)
    assert isinstance(write, Update) and write.key == {"id": 41}
    assert write.values["sla_days"] == 10 and write.values["due_on"] == datetime(2026, 1, 23).date()
