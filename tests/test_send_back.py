"""Sending a project back to an earlier agency step (驳回到指定环节) and accepting a
declaration with items to follow (容缺受理), on liaocheng's definition: the city sends a
county-recommended project back to the county, the filing office sends one back to the
acceptance — each resumes at the step named, owed by the right agency, without repeating
the steps kept in between; items to follow are owed by the enterprise and, missing at their
due day, return the project by themselves. Everyone else is refused."""

import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Deadline, Notification, Project, Status, User, WorkflowEvent, china_today
from app.review import items, reminders
from app.rules.calendar import add_working_days
from app.rules.resend import undo_from
from app.workflow.definitions import DefinitionError, parse_text
from app.workflow.verify import verify_trail
from tests.test_subsidy_routing import World, area_world, owing, set_local

LIAOCHENG = Path(__file__).parent.parent / "workflows" / "liaocheng-2024-draft.toml"
ITEMS = ["环评批复文件", "设备采购合同"]


def world(clean_app, client, steps):
    pid, tokens, seeing = area_world(clean_app, "liaocheng", steps)
    return World(client, pid, tokens, seeing)


def project_row(app, pid) -> dict:
    with app.app_context():
        p = db.session.scalar(select(Project).where(Project.public_id == uuid.UUID(pid)))
        return {"status": p.status, "recommended": p.recommended_at is not None,
                "accepted": p.accepted_at is not None,
                "signed": p.commitment_signed_at is not None,
                "items": p.items_to_follow, "due": p.items_due_on, "id": p.id}


def kinds(app, pid) -> list[str]:
    with app.app_context():
        project_id = db.session.scalar(select(Project.id).where(Project.public_id == uuid.UUID(pid)))
        return list(db.session.scalars(select(WorkflowEvent.trigger).where(
            WorkflowEvent.project_id == project_id).order_by(WorkflowEvent.seq)))


def told(project_id, kind, trigger=None) -> set[str]:
    query = select(User.username).join(Notification, Notification.user_id == User.id).where(
        Notification.project_id == project_id, Notification.kind == kind)
    if trigger:
        query = query.where(Notification.trigger == trigger)
    return set(db.session.scalars(query))


def test_city_sends_a_recommended_project_back_to_the_county_and_it_resumes_there(
        clean_app, client):
    w = world(clean_app, client, ["submit"])
    assert w.fire("liaocheng-county", "recommend").status_code == 200
    assert owing(clean_app, "accept") == {"liaocheng-miit", "liaocheng-miit-2"}
    # Only the city's miit may send it back, with reasons, and only to the county's review.
    w.only({"liaocheng-miit", "liaocheng-miit-2"}, "send_back", comment="请县级核实设备清单")
    missing = w.fire("liaocheng-miit", "send_back")
    assert missing.status_code == 422 and "comment" in missing.json["fields"]
    wrong = w.fire("liaocheng-miit", "send_back", comment="核实", to="file")
    assert wrong.status_code == 422
    sent = w.fire("liaocheng-miit", "send_back", comment="请县级核实设备清单", to="recommend")
    assert sent.status_code == 200, sent.json
    assert sent.json["status"] == "declared"
    state = project_row(clean_app, w.pid)
    assert state["status"] == Status.DECLARED and not state["recommended"]
    # The county owes its review again; the city owes nothing until it recommends.
    assert owing(clean_app, "recommend") == {"liaocheng-county"}
    assert owing(clean_app, "accept") == set()
    queue = w.api("liaocheng-county").get("/queue").json["items"]
    assert [row["trigger"] for row in queue if row["project"]["id"] == w.pid] == ["recommend"]
    assert w.fire("liaocheng-miit", "accept").status_code == 422  # not recommended now
    assert w.fire("liaocheng-county", "recommend").status_code == 200
    assert w.fire("liaocheng-miit", "accept").status_code == 200
    # The loop on the timeline: recommended, sent back with its reason, recommended again.
    events = w.api("liaocheng-enterprise1").get(f"/projects/{w.pid}/events").json["items"]
    loop = [e for e in events if e["trigger"] in ("recommend", "send_back", "accept")]
    assert [e["trigger"] for e in loop] == ["recommend", "send_back", "recommend", "accept"]
    assert loop[1]["comment"] == "请县级核实设备清单"
    assert loop[1]["data"]["to"] == "recommend" and loop[1]["data"]["undone"] == ["recommend"]
    assert loop[1]["clause"] is None  # the system's, not the document's
    assert loop[0]["clause"] == "三(一)"


def test_filing_office_sends_back_to_acceptance_without_repeating_the_kept_commitment(
        clean_app, client):
    w = world(clean_app, client, ["submit", "accept", "sign_commitment"])
    assert owing(clean_app, "file") == {"liaocheng-approval", "liaocheng-approval-2"}
    w.only({"liaocheng-approval", "liaocheng-approval-2"}, "send_back", comment="受理材料不全")
    sent = w.fire("liaocheng-approval", "send_back", comment="受理材料不全", to="accept")
    assert sent.status_code == 200, sent.json
    state = project_row(clean_app, w.pid)
    # Back at the acceptance: the county's recommendation and the signed commitment stand.
    assert state["status"] == Status.DECLARED and not state["accepted"]
    assert state["recommended"] and state["signed"]
    assert owing(clean_app, "accept") == {"liaocheng-miit", "liaocheng-miit-2"}
    assert owing(clean_app, "recommend") == set()
    assert owing(clean_app, "file") == set()
    assert w.fire("liaocheng-miit", "accept").status_code == 200
    # The commitment (keep_on_resend) is not asked again: the filing office owes the filing.
    assert owing(clean_app, "sign_commitment") == set()
    assert owing(clean_app, "file") == {"liaocheng-approval", "liaocheng-approval-2"}
    assert w.fire("liaocheng-approval", "file", filing_number="聊审备-1").status_code == 200
    trail = kinds(clean_app, w.pid)
    assert trail.count("sign_commitment") == 1 and trail.count("accept") == 2
    assert trail[-3:] == ["send_back", "accept", "file"]


def test_a_send_back_is_refused_before_its_target_was_taken(clean_app, client):
    w = world(clean_app, client, ["submit"])  # not yet recommended
    refused = w.fire("liaocheng-miit", "send_back", comment="退回", to="recommend")
    assert refused.status_code == 422


def accept_with_items(w):
    assert w.fire("liaocheng-county", "recommend").status_code == 200
    half = w.fire("liaocheng-miit", "accept", items_to_follow=ITEMS)
    assert half.status_code == 422  # the written commitment is named too
    done = w.fire("liaocheng-miit", "accept", items_to_follow=ITEMS, commitment="容缺承诺书-001")
    assert done.status_code == 200, done.json


def test_items_to_follow_are_owed_by_the_enterprise_and_return_the_project_when_missing(
        clean_app, client):
    w = world(clean_app, client, ["submit"])
    accept_with_items(w)
    state = project_row(clean_app, w.pid)
    assert state["status"] == Status.COMMITMENT_FILING
    accepted_on = state["due"]
    assert accepted_on is not None and state["items"].split("\n") == ITEMS
    assert owing(clean_app, "supply_items") == {"liaocheng-enterprise1"}
    shown = w.api("liaocheng-enterprise1").get(f"/projects/{w.pid}").json
    assert shown["items_to_follow"] == {"items": ITEMS, "due_on": accepted_on.isoformat(),
                                        "commitment": "容缺承诺书-001"}
    assert "supply_items" in [row["trigger"] for row in shown["waiting_for"] if row["yours"]]
    queue = w.api("liaocheng-enterprise1").get("/queue").json["items"]
    [owed] = [row for row in queue if row["trigger"] == "supply_items"]
    assert owed["due"] == accepted_on.isoformat() and not owed["overdue"]
    with clean_app.app_context():
        row = db.session.scalar(select(Deadline).where(Deadline.trigger == "supply_items"))
        assert row.due_on == accepted_on and row.org_id is not None
        # reminded like any step before its day (once), the enterprise told
        assert reminders.run(accepted_on).reminded == [row.id]
        assert reminders.run(accepted_on).reminded == []
        assert told(state["id"], "reminder") == {"liaocheng-enterprise1"}
        # on the due day the items are still awaited; the day after, the project returns
        assert items.check(accepted_on).returned == []
    assert project_row(clean_app, w.pid)["status"] == Status.COMMITMENT_FILING
    with clean_app.app_context():
        run = items.check(accepted_on + timedelta(days=1))
        assert [pid for pid, _reason in run.returned] == [state["id"]]
    # once: a second run, by the command with its injectable day, returns nothing more
    later = (accepted_on + timedelta(days=2)).isoformat()
    result = clean_app.test_cli_runner().invoke(args=["items", "check", "--today", later])
    assert result.exit_code == 0 and result.output.strip() == "returned 0"
    after = project_row(clean_app, w.pid)
    assert after["status"] == Status.RETURNED and after["items"] is None
    assert not after["accepted"] and not after["recommended"]
    events = w.api("liaocheng-enterprise1").get(f"/projects/{w.pid}/events").json["items"]
    lapsed = events[-1]
    assert lapsed["trigger"] == "items_lapsed" and lapsed["to"] == "returned"
    assert lapsed["data"]["items"] == ITEMS and "环评批复文件" in lapsed["comment"]
    assert owing(clean_app, "submit") == {"liaocheng-enterprise1"}
    assert owing(clean_app, "supply_items") == set()
    with clean_app.app_context():
        assert told(state["id"], "your_turn", "items_lapsed") == {"liaocheng-enterprise1"}
        assert verify_trail().first_break is None


def test_supplying_the_items_closes_them_and_nothing_returns(clean_app, client):
    w = world(clean_app, client, ["submit"])
    # the city's own number of working days (a local setting it owns), not the default 10
    set_local(clean_app, "liaocheng-miit", "time_limit:items_to_follow", "3")
    accept_with_items(w)
    due = project_row(clean_app, w.pid)["due"]
    assert due == add_working_days(china_today(), 3)
    w.only({"liaocheng-enterprise1"}, "supply_items", items=ITEMS[:1])
    assert w.fire("liaocheng-enterprise1", "supply_items", items=["别的材料"]).status_code == 422
    assert w.fire("liaocheng-enterprise1", "supply_items", items=ITEMS[:1]).status_code == 200
    assert project_row(clean_app, w.pid)["items"] == ITEMS[1]
    assert owing(clean_app, "supply_items") == {"liaocheng-enterprise1"}
    assert w.fire("liaocheng-enterprise1", "supply_items", items=ITEMS[1:]).status_code == 200
    assert owing(clean_app, "supply_items") == set()
    assert w.fire("liaocheng-enterprise1", "supply_items").status_code == 422  # none left
    with clean_app.app_context():
        assert items.check(add_working_days(due, 5)).returned == []
    assert project_row(clean_app, w.pid)["status"] == Status.COMMITMENT_FILING


def test_items_to_follow_only_where_the_definition_allows_them(clean_app, client):
    pid, tokens, seeing = area_world(clean_app, "luoyang", ["submit"])
    w = World(client, pid, tokens, seeing)
    refused = w.fire("luoyang-miit", "accept", items_to_follow=ITEMS, commitment="承诺书")
    assert refused.status_code == 422


def definition_with(old: str, new: str):
    text = LIAOCHENG.read_text(encoding="utf-8")
    assert old in text
    return parse_text(text.replace(old, new, 1), LIAOCHENG)


@pytest.mark.parametrize(("old", "new", "problem"), [
    ('send_back_to = ["recommend"]', 'send_back_to = ["submit"]', "earlier agency step"),
    ('send_back_to = ["recommend"]', 'send_back_to = ["accept"]', "not an earlier step"),
    ('send_back_to = ["accept"]', "", "send_back_to names the targets"),
    ('keep_on_resend = true', 'keep_on_resend = "yes"', "keep_on_resend"),
    ('items_to_follow = "items_to_follow"', 'items_to_follow = "nothing"',
     "items_to_follow 'nothing'"),
    # a send-back no document provides says so in its note; any other step cites its clause
    ('send_back_to = ["recommend"]\nnote = ', 'send_back_to = ["recommend"]\nnotes = ',
     "unknown field"),
    ('send_back_to = ["recommend"]\nnote = "', 'send_back_to = ["recommend"]\nnote = "" #',
     "says why in its note"),
    ('guards = ["not_recommended"]\nclause = "三(一)"\n', 'guards = ["not_recommended"]\n',
     "missing 'clause'"),
])
def test_workflows_check_validates_the_send_back_keys(old, new, problem):
    with pytest.raises(DefinitionError, match=problem):
        definition_with(old, new)


def test_the_liaocheng_definition_reads_its_send_backs():
    definition = parse_text(LIAOCHENG.read_text(encoding="utf-8"), LIAOCHENG)
    targets = {t.role: t.send_back_to for t in definition.transitions_for("send_back")}
    assert targets == {"agency:miit": ("recommend",), "agency:approval": ("accept",)}
    assert [t.keep_on_resend for t in definition.transitions_for("sign_commitment")] == [True]
    # no document provides them: they cite no clause, and their notes say so
    for trigger in ("send_back", "supply_items"):
        for spec in definition.transitions_for(trigger):
            assert not spec.clause and not spec.quote and "本系统功能" in spec.note


def test_a_send_back_undoes_its_target_and_the_later_steps_not_kept():
    def taken_so_far():
        return SimpleNamespace(recommended_at=1, accepted_at=1, commitment_signed_at=1,
                               filing_number=None, filed_at=None, items_to_follow="材料",
                               items_due_on=1, items_commitment="承诺书")

    kept = parse_text(LIAOCHENG.read_text(encoding="utf-8"), LIAOCHENG)
    project = taken_so_far()
    assert undo_from(project, kept, "accept") == ["accept"]
    assert project.commitment_signed_at == 1 and project.recommended_at == 1
    assert project.accepted_at is None and project.items_to_follow is None
    not_kept = definition_with("keep_on_resend = true\n", "")
    project = taken_so_far()
    assert undo_from(project, not_kept, "accept") == ["accept", "sign_commitment"]
    assert project.commitment_signed_at is None and project.recommended_at == 1
    project = taken_so_far()
    assert undo_from(project, kept, "recommend") == ["recommend", "accept"]


def test_the_workers_check_items_to_follow_each_morning_once(clean_app):
    from datetime import datetime

    from app.jobs import schedule
    from app.models import Job

    daily = next(t for t in schedule.PERIODIC if t.name == "items_check")
    morning = datetime(2026, 12, 2, 23, 45)  # 07:45 on 3 December in China
    assert daily.schedule(schedule.china_time(morning))
    with clean_app.app_context():
        assert schedule.start(daily, morning) is True
        assert schedule.start(daily, morning + timedelta(minutes=5)) is False
        assert db.session.scalar(select(Job.status).where(Job.kind == "items_check")) == "done"
