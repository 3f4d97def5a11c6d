"""Each agency step's time limit counts working days and pauses while the project is returned."""

from datetime import date

import pytest

from app.extensions import db
from app.projects.operations import create_project
from app.rules.project_input import ProjectCreate
from app.workflow import workflows
from tests.helpers import Cast, project_payload


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    cast.agency("miit", "miit", "320500")
    cast.agency("ndrc", "ndrc", "320500")
    return cast


def fire(project, trigger, username, cast, today, **kw):
    workflows().fire(project, trigger, cast.user(username), version=project.version,
                     today=today, **kw)
    db.session.refresh(project)


def open_deadlines(project):
    """The agencies' open steps with their time limits."""
    return [(d.role, d.trigger, d.due_on, d.used_days) for d in project.deadlines
            if d.met_at is None and d.due_on is not None]


def owed_by_enterprise(project):
    return [d.trigger for d in project.deadlines if d.org_id == project.enterprise_id]


def test_due_date_skips_national_day_and_counts_the_adjusted_saturday(clean_app, cast):
    with clean_app.app_context():
        project = create_project(cast.user("ent_a"), ProjectCreate.model_validate(
            project_payload(), strict=False))
        fire(project, "submit", "ent_a", cast, date(2024, 9, 27), comment=None)
        # 20 working days from Fri 27 Sep 2024: Sun 29 Sep and Sat 12 Oct are worked (调休),
        # 1–7 Oct are National Day: the 20th working day is Wed 30 Oct.
        assert open_deadlines(project) == [("agency:miit", "accept", date(2024, 10, 30), 0)]


def test_clock_pauses_while_returned(clean_app, cast):
    with clean_app.app_context():
        project = create_project(cast.user("ent_a"), ProjectCreate.model_validate(
            project_payload(), strict=False))
        fire(project, "submit", "ent_a", cast, date(2024, 9, 27))
        # returned on Wed 9 Oct: 4 working days used (29 Sep, 30 Sep, 8 Oct, 9 Oct)
        fire(project, "return", "miit", cast, date(2024, 10, 9), comment="补充设备能效等级")
        assert project.status.value == "returned" and open_deadlines(project) == []
        assert owed_by_enterprise(project) == ["submit"]  # the enterprise's turn, no clock
        assert project.clock_used_days == 4
        # resubmitted on Mon 21 Oct after 12 days away: 16 working days remain
        fire(project, "submit", "ent_a", cast, date(2024, 10, 21))
        assert open_deadlines(project) == [("agency:miit", "accept", date(2024, 11, 12), 4)]
        # the next stage starts its own clock: filing is owed once the commitment is signed
        fire(project, "accept", "miit", cast, date(2024, 11, 1))
        assert open_deadlines(project) == [] and owed_by_enterprise(project) == ["sign_commitment"]
        fire(project, "sign_commitment", "ent_a", cast, date(2024, 11, 4),
             data={"commitment_accepted": True})
        assert open_deadlines(project) == [("agency:ndrc", "file", date(2024, 11, 11), 0)]


def test_overdue_steps_are_listed_per_agency(clean_app, cast, client):
    with clean_app.app_context():
        project = create_project(cast.user("ent_a"), ProjectCreate.model_validate(
            project_payload(), strict=False))
        fire(project, "submit", "ent_a", cast, date(2024, 9, 27))
    body = cast.api(client, "miit").get("/overdue").json
    assert body["by_agency"] == [{"role": "agency:miit", "level": None, "count": 1,
                                  "role_label": "Industry and information technology department"}]
    assert body["items"][0]["due_on"] == "2024-10-30" and body["items"][0]["overdue"] is True
    assert cast.api(client, "ent_a").get(f"/projects/{project_id(clean_app)}").json[
        "deadlines"][0]["step"] == "Accept into library"


def project_id(app):
    from sqlalchemy import select

    from app.models import Project

    with app.app_context():
        return str(db.session.scalar(select(Project.public_id)))
