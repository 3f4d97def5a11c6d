"""Monthly construction progress (月调度) and the living library: reports owed month by month,
problems answered by the accepting agency, missed reports and lapsed filings warned about,
then exited (退库) or deferred to a later batch. Time moves by the injectable day."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.errors import Conflict, Invalid
from app.extensions import db
from app.models import Deadline, ProgressReport, Project, WorkflowEvent, china_today
from app.projects.operations import create_project
from app.reporting.dashboard import summary
from app.review.queue import late_reports
from app.rules.project_input import ProjectCreate
from app.workflow import workflows
from tests.helpers import Cast, project_payload


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent")
    cast.agency("miit", "miit", "320500")
    cast.agency("ndrc", "ndrc", "320500")
    cast.agency("county", "miit", "320506")
    return cast


def month(offset: int) -> date:
    """The first day of the month `offset` months after the filing's (this month)."""
    first = china_today().replace(day=1)
    index = first.year * 12 + first.month - 1 + offset
    return date(index // 12, index % 12 + 1, 1)


def filed_project(cast, name: str, code: str) -> int:
    """A project without financing need, filed today (its reports are owed from this month)."""
    ent, miit, ndrc = cast.user("ent"), cast.user("miit"), cast.user("ndrc")
    project = create_project(ent, ProjectCreate.model_validate(project_payload(
        name=name, financing_need="0", project_code=code), strict=False))
    for trigger, who, data in (("submit", ent, None), ("accept", miit, None),
                               ("sign_commitment", ent, {"commitment_accepted": True}),
                               ("file", ndrc, {"filing_number": f"苏备{code[-3:]}号"})):
        workflows().fire(project, trigger, who, version=project.version, data=data)
    return project.id


def fire(project_id: int, trigger: str, username: str, cast, day: date, comment=None,
         **data):
    project = db.session.get(Project, project_id)
    state = workflows().fire(project, trigger, cast.user(username), version=project.version,
                             comment=comment, data=data or None, today=day)
    db.session.remove()
    return state


def report(project_id, cast, offset, day, **extra):
    data = {"month": month(offset).isoformat(), "investment_completed": str(100 * (offset + 1)),
            "percent_complete": min(4 * (offset + 1), 100), **extra}
    return fire(project_id, "report_progress", "ent", cast, day, **data)


def check(runner, day: date) -> str:
    result = runner.invoke(args=["progress", "check", "--today", day.isoformat()])
    assert result.exit_code == 0, result.output
    db.session.remove()
    return result.output.strip()


def owed(project_id: int) -> dict[str, Deadline]:
    return {row.trigger: row for row in db.session.scalars(select(Deadline).where(
        Deadline.project_id == project_id, Deadline.met_at.is_(None)))}


def warnings(project_id: int) -> list[dict]:
    return [e.data for e in db.session.scalars(select(WorkflowEvent).where(
        WorkflowEvent.project_id == project_id, WorkflowEvent.trigger == "warn_stalled"))]


def test_reports_on_time_then_three_misses_warn_and_the_agency_exits(clean_app, cast, runner,
                                                                      client):
    with clean_app.app_context():
        pid = filed_project(cast, "按月调度项目", "2612-320506-07-02-000101")
        # owed from the filing month, by the 5th working day of the next
        row = owed(pid)["report_progress"]
        assert row.org_id is not None and row.due_on > month(1) and row.due_on < month(1) + \
            timedelta(days=20)
        for offset in range(10):  # ten reports, each on the first day of the next month
            extra = {"actual_start_on": month(0).isoformat()} if offset == 0 else {}
            if offset == 3:
                extra["problems"] = "变压器增容手续办理缓慢，需协调供电公司。"
                extra["equipment_installed"] = {"1": month(3).isoformat()}
            report(pid, cast, offset, month(offset + 1), **extra)
            assert check(runner, month(offset + 1) + timedelta(days=27)) == "warned 0"
            if offset == 3:  # the problem waits in the city agency's queue, with its due day
                answer = owed(pid)["answer_problem"]
                assert (answer.role, answer.org_id) == ("agency:miit", None)
                assert answer.due_on is not None
                fire(pid, "answer_problem", "miit", cast, month(4) + timedelta(days=2),
                     comment="已协调供电公司，下周现场办理增容。")
                assert "answer_problem" not in owed(pid)
        reports = db.session.scalars(select(ProgressReport).where(
            ProgressReport.project_id == pid).order_by(ProgressReport.month)).all()
        assert [r.month for r in reports] == [month(i) for i in range(10)]
        assert not any(r.late for r in reports)
        assert reports[3].answer == "已协调供电公司，下周现场办理增容。"
        assert reports[3].equipment_installed == {"1": month(3).isoformat()}
        project = db.session.get(Project, pid)
        assert (project.actual_start_on, project.investment_completed,
                project.percent_complete) == (month(0), Decimal("1000"), 40)
        db.session.remove()

        # months 10, 11, 12 go unreported: late (amber) at once, warned after the third
        assert owed(pid)["report_progress"].due_on < month(11) + timedelta(days=27)
        assert late_reports({pid}, month(10) + timedelta(days=27)) == set()
        assert late_reports({pid}, month(11) + timedelta(days=27)) == {pid}  # the queue's amber
        figures = summary(cast.user("miit"), today=month(11) + timedelta(days=27)).progress
        assert (figures["late_reports"], figures["started"]) == (1, 1)  # the dashboard's
        assert check(runner, month(11) + timedelta(days=27)) == "warned 0"
        assert check(runner, month(12) + timedelta(days=27)) == "warned 0"
        assert "exit_library" not in owed(pid)
        assert check(runner, month(13) + timedelta(days=27)) == "warned 1"
        assert check(runner, month(13) + timedelta(days=28)) == "warned 0"  # once only
        assert [w["reason"] for w in warnings(pid)] == ["stalled"]
        decision = owed(pid)["exit_library"]
        assert (decision.role, decision.org_id) == ("agency:miit", None)

        with pytest.raises(Invalid) as refused:  # reasons are required
            fire(pid, "exit_library", "miit", cast, month(14))
        assert "comment" in str(refused.value.fields)
        fire(pid, "exit_library", "miit", cast, month(14), comment="连续三个月未报送调度，退库。")
        project = db.session.get(Project, pid)
        assert project.status.value == "exited"
        assert owed(pid) == {}
        with pytest.raises(Conflict):  # nothing more is reported on an exited project
            report(pid, cast, 13, month(14))
        public_id = str(project.public_id)
        db.session.remove()

    # exited projects are counted on their own; the enterprise may declare it again, as new
    stats = cast.api(client, "miit").get("/stats/summary").json
    assert "exited" not in stats["by_stage"]  # out of the library's counts, on its own
    assert (stats["progress"]["exited"], stats["progress"]["filed"]) == (1, 0)
    assert cast.api(client, "miit").post(f"/projects/{public_id}/redeclare").status_code == 403
    again = cast.api(client, "ent").post(f"/projects/{public_id}/redeclare")
    assert again.status_code == 201, again.json
    draft = again.json
    assert (draft["status"], draft["name"], draft["project_code"], draft["batch_year"]) == (
        "draft", "按月调度项目", None, china_today().year)
    assert [e["name"] for e in draft["equipment"]] == ["五轴数控机床", "普通车床"]
    events = cast.api(client, "ent").get(f"/projects/{draft['id']}/events").json["items"]
    assert events[0]["data"]["redeclared_from"] == public_id
    assert cast.api(client, "ent").post(
        f"/projects/{draft['id']}/redeclare").status_code == 409  # only an exited one


def test_a_project_never_started_lapses_at_two_years_and_may_be_deferred(clean_app, cast,
                                                                         runner):
    with clean_app.app_context():
        pid = filed_project(cast, "迟迟未开工项目", "2612-320506-07-02-000102")
        filed = china_today()
        lapse = date(filed.year + 2, filed.month, filed.day)  # two years after the filing
        for offset in range(26):  # reports every month, never a start
            day = month(offset + 1)
            report(pid, cast, offset, day)
            checked = day + timedelta(days=27)
            assert check(runner, checked) == ("warned 1" if checked >= lapse else "warned 0")
            if checked >= lapse:
                break
        assert [w["reason"] for w in warnings(pid)] == ["lapsed"]
        assert checked - lapse < timedelta(days=31)  # warned in the month it lapsed
        fire(pid, "defer_batch", "miit", cast, month(25), comment="企业承诺次年开工，调整批次。")
        project = db.session.get(Project, pid)
        assert project.stall_warned_at is None and project.batch_year == month(25).year + 1
        assert "exit_library" not in owed(pid)
        db.session.remove()
        assert check(runner, month(25) + timedelta(days=27)) == "warned 0"


def test_api_shows_progress_to_those_who_may_see_it(clean_app, cast, client):
    cast.enterprise("other")
    cast.agency("far", "miit", "320583")
    with clean_app.app_context():
        pid = filed_project(cast, "接口调度项目", "2612-320506-07-02-000103")
        public_id = str(db.session.get(Project, pid).public_id)
        db.session.remove()
    ent, miit = cast.api(client, "ent"), cast.api(client, "miit")
    p = ent.get(f"/projects/{public_id}").json
    this_month = china_today().strftime("%Y-%m")
    bad = ent.fire(public_id, "report_progress", p["version"], month=this_month,
                   investment_completed="-1", percent_complete=101)
    assert bad.status_code == 422
    assert {"data.investment_completed", "data.percent_complete"} <= set(bad.json["fields"])
    done = ent.fire(public_id, "report_progress", p["version"], month=this_month,
                    actual_start_on=china_today().isoformat(), investment_completed="1250.5",
                    percent_complete=30, equipment_installed={"1": china_today().isoformat()},
                    problems="设备进口报关受阻。")
    assert done.status_code == 200, done.json
    again = ent.fire(public_id, "report_progress", done.json["version"], month=this_month,
                     investment_completed="1300", percent_complete=31)
    assert again.status_code == 422 and "filed already" in again.json["message"]

    listed = miit.get("/progress", project=public_id).json
    assert [(i["month"], i["investment_completed"], i["problems"], i["answer"])
            for i in listed["items"]] == [(this_month, "1250.5", "设备进口报关受阻。", None)]
    assert listed["owed"]["month"] > this_month and listed["owed"]["late"] is False
    assert listed["owed"]["report_day"] == 5 and listed["owed"]["report_day_basis"] == "local"
    assert len(miit.get("/progress", problems="open").json["items"]) == 1
    assert cast.api(client, "other").get("/progress").json["items"] == []
    assert cast.api(client, "far").get("/progress", project=public_id).status_code == 404
    summary = miit.get("/stats/summary").json["progress"]
    assert summary == {"filed": 1, "started": 1, "investment_completed": "1250.5",
                       "late_reports": 0, "open_problems": 1, "warned": 0, "exited": 0}

    answered = miit.fire(public_id, "answer_problem", done.json["version"],
                         comment="已协调海关绿色通道。")
    assert answered.status_code == 200, answered.json
    assert miit.get("/progress", problems="open").json["items"] == []
    item = ent.get("/progress").json["items"][0]
    assert (item["answer"], item["answered_by"]) == ("已协调海关绿色通道。", "miit局")
    assert miit.get("/stats/summary").json["progress"]["open_problems"] == 0
