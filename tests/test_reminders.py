"""Before a time limit runs out those who owe the step are reminded; once it has, the same
kind of agency one level up is told and sees it on its dashboard — each once, in the audit
trail. The clock is moved by running for a given day on the working-day calendar."""

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Notification, Project, User, WorkflowEvent
from app.projects.operations import create_project
from app.reporting.dashboard import summary
from app.rules.project_input import ProjectCreate
from app.workflow import workflows
from tests.helpers import Cast, project_payload


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent")
    cast.agency("miit_county", "miit", "320506")
    cast.agency("miit_city", "miit", "320500")
    cast.agency("miit_province", "miit", "320000")
    return cast


def notices(kind: str) -> dict[str, int]:
    rows = db.session.execute(select(User.username, func.count()).join(
        Notification, Notification.user_id == User.id).where(Notification.kind == kind)
        .group_by(User.username)).all()
    return dict(rows)


def events(kind: str) -> int:
    return db.session.scalar(select(func.count()).select_from(WorkflowEvent)
                             .where(WorkflowEvent.trigger == kind))


def test_reminded_then_escalated_once_each(clean_app, cast):
    runner = clean_app.test_cli_runner()

    def run(day):
        result = runner.invoke(args=["reminders", "run", "--today", day])
        assert result.exit_code == 0, result.output
        db.session.remove()
        return result.output.strip()

    with clean_app.app_context():
        project = create_project(cast.user("ent"), ProjectCreate.model_validate(
            project_payload(), strict=False))
        # submitted Fri 27 Sep 2024: acceptance due Wed 30 Oct (20 working days, National Day
        # and the worked Saturdays counted)
        workflows().fire(project, "submit", cast.user("ent"), version=project.version,
                         today=date(2024, 9, 27))
        project_id = project.id
        db.session.remove()

        assert run("2024-10-25") == "reminded 0, escalated 0"  # 3 working days left
        assert run("2024-10-28") == "reminded 1, escalated 0"  # 2 left: the lead
        assert notices("reminder") == {"miit_county": 1, "miit_city": 1, "miit_province": 1}
        assert run("2024-10-29") == "reminded 0, escalated 0"  # once
        assert run("2024-10-30") == "reminded 0, escalated 0"  # due today: not yet late
        assert run("2024-10-31") == "reminded 0, escalated 1"
        # the county owed it: the city is told, and its dashboard lists it
        assert notices("escalation") == {"miit_city": 1}
        assert run("2024-11-01") == "reminded 0, escalated 0"
        assert (events("remind"), events("escalate")) == (1, 1)
        [row] = summary(cast.user("miit_city"), "320500").escalated
        assert (row["trigger"], row["due_on"]) == ("accept", date(2024, 10, 30))
        assert summary(cast.user("miit_province"), "320000").escalated == []

        # accepted at last: nothing is owed, nothing listed
        project = db.session.get(Project, project_id)
        workflows().fire(project, "accept", cast.user("miit_county"), version=project.version,
                         today=date(2024, 11, 4))
        db.session.remove()
        assert summary(cast.user("miit_city"), "320500").escalated == []


def test_the_workers_run_reminders_each_morning_once(clean_app, cast):
    """The job worker's daily task: 07:00 China time, once per day whichever worker asks."""
    from datetime import datetime, timedelta

    from app.jobs import schedule
    from app.models import Job

    daily = next(t for t in schedule.PERIODIC if t.name == "reminders")
    morning = datetime(2026, 12, 2, 23, 0)  # 07:00 on 3 December in China
    assert daily.schedule(schedule.china_time(morning))
    with clean_app.app_context():
        project = create_project(cast.user("ent"), ProjectCreate.model_validate(
            project_payload(), strict=False))
        workflows().fire(project, "submit", cast.user("ent"), version=project.version,
                         today=date(2026, 11, 2))  # long overdue by 3 December
        assert schedule.start(daily, morning) is True
        assert schedule.start(daily, morning + timedelta(minutes=5)) is False
        assert db.session.scalar(select(Job.status).where(Job.kind == "reminders")) == "done"
        assert events("escalate") == 1
