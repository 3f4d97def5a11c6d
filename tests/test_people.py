"""Who in an agency handles a step: claims (认领), releases (释放), a head's reassignment
(转办), and a deputy's cover while the officer is away (职务代理) — as users meet them
through the API and the CLI."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import access
from app.accounts import operations as accounts
from app.extensions import db
from app.models import (
    Deadline,
    Delegation,
    Organization,
    Project,
    SecurityEvent,
    WorkflowEvent,
    china_today,
)
from app.projects.operations import get_project
from app.review.people import create_delegation
from tests.helpers import PASSWORD, Cast, project_payload
from tests.web import post, signed_in

OFFICERS = 20
TODAY = china_today()


def colleague(cast: Cast, username: str, of: str, head: bool = False) -> str:
    """A second user in `of`'s agency (same organisation, hence same role and place)."""
    with cast.app.app_context():
        org = db.session.get(Organization, cast.user(of).organization_id)
        user = accounts.create_user(username=username, password=PASSWORD, organization=org,
                                    display_name=f"{username} 科员")
        user.is_head = head
        db.session.commit()
        cast.tokens[username] = accounts.issue_token(user)
    return username


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent")
    cast.agency("jia", "miit", "320500")  # 甲, the officer
    colleague(cast, "yi", "jia")  # 乙, the deputy
    colleague(cast, "bing", "jia")  # 丙, another officer
    colleague(cast, "chief", "jia", head=True)  # 科长
    return cast


def declared(client, cast, **payload) -> dict:
    ent = cast.api(client, "ent")
    p = ent.post("/projects", project_payload(**payload)).json
    return ent.fire(p["id"], "submit", p["version"]).json


def step_id(api, project_id, trigger="accept") -> int:
    rows = api.get(f"/projects/{project_id}").json["waiting_for"]
    return next(r["id"] for r in rows if r["trigger"] == trigger)


def hold(api, project_id, sid, action, **body):
    return api.post(f"/projects/{project_id}/steps/{sid}/{action}", body)


def cover(app, officer, deputy, starts_on, ends_on):
    with app.app_context():
        create_delegation(cast_user(officer), cast_user(officer), cast_user(deputy),
                          starts_on, ends_on, "年休假", today=starts_on)


def cast_user(username):
    return db.session.scalar(select(accounts.User).where(accounts.User.username == username))


def test_a_claimed_step_is_the_holders_until_released(client, cast):
    p = declared(client, cast)
    jia, bing = cast.api(client, "jia"), cast.api(client, "bing")
    sid = step_id(jia, p["id"])
    claimed = hold(jia, p["id"], sid, "claim", version=p["version"])
    assert claimed.status_code == 200, claimed.json
    # 丙 no longer sees it in the queue, is told why on the project, and cannot act
    assert bing.get("/queue").json["items"] == []
    row = next(r for r in bing.get(f"/projects/{p['id']}").json["waiting_for"]
               if r["trigger"] == "accept")
    assert row["held_by"] == "jia 经办人" and not row["yours"]
    assert "jia 经办人 has claimed this step" in row["why_not_yours"]
    version = claimed.json["version"]
    refused = bing.fire(p["id"], "accept", version)
    assert refused.status_code == 403 and "has claimed this step" in refused.json["message"]
    assert hold(bing, p["id"], sid, "claim", version=version).status_code == 409
    assert hold(bing, p["id"], sid, "release", version=version).status_code == 403
    assert [i["trigger"] for i in jia.get("/queue").json["items"]] == ["accept"]
    released = hold(jia, p["id"], sid, "release", version=version)
    assert released.status_code == 200
    assert bing.fire(p["id"], "accept", released.json["version"]).status_code == 200
    kinds = [e["trigger"] for e in jia.get(f"/projects/{p['id']}/events").json["items"]]
    assert kinds[-3:] == ["claim_step", "release_step", "accept"]


def test_a_head_reassigns_with_a_reason(client, cast):
    p = declared(client, cast)
    jia, bing, chief = (cast.api(client, n) for n in ("jia", "bing", "chief"))
    sid = step_id(jia, p["id"])
    v = hold(jia, p["id"], sid, "claim").json["version"]
    assert hold(bing, p["id"], sid, "reassign", to="bing", reason="均衡").status_code == 403
    missing = hold(chief, p["id"], sid, "reassign", to="bing", reason=" ")
    assert missing.status_code == 422 and "reason" in missing.json["fields"]
    stranger = hold(chief, p["id"], sid, "reassign", to="ent", reason="均衡")
    assert stranger.status_code == 422 and "to" in stranger.json["fields"]
    moved = hold(chief, p["id"], sid, "reassign", to="bing", reason="甲出差，转丙办理", version=v)
    assert moved.status_code == 200, moved.json
    event = chief.get(f"/projects/{p['id']}/events").json["items"][-1]
    assert event["trigger"] == "reassign_step"
    assert event["data"]["previous_holder"] == "jia 经办人"
    assert event["data"]["holder"] == "bing 科员" and event["data"]["reason"] == "甲出差，转丙办理"
    assert jia.fire(p["id"], "accept", moved.json["version"]).status_code == 403
    assert bing.fire(p["id"], "accept", moved.json["version"]).status_code == 200


def test_twenty_officers_claiming_at_once_leave_one_holder(client, cast):
    app = client.application
    for i in range(OFFICERS):
        colleague(cast, f"officer{i}", "jia")
    p = declared(client, cast)
    sid = step_id(cast.api(client, "jia"), p["id"])
    barrier = threading.Barrier(OFFICERS)

    def claim(i):
        api = cast.api(app.test_client(), f"officer{i}")
        barrier.wait()
        return hold(api, p["id"], sid, "claim", version=p["version"])

    with ThreadPoolExecutor(OFFICERS) as pool:
        responses = list(pool.map(claim, range(OFFICERS)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * (OFFICERS - 1), [r.json for r in responses]
    winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
    with app.app_context():
        holders = db.session.scalars(select(Deadline.holder_id).where(
            Deadline.trigger == "accept")).all()
        assert holders == [cast_user(f"officer{winner}").id]
        claims = db.session.scalar(select(func.count()).select_from(WorkflowEvent).where(
            WorkflowEvent.trigger == "claim_step"))
        assert claims == 1
    # and released then claimed again by twenty at once: still one holder
    winner_api = cast.api(client, f"officer{winner}")
    version = hold(winner_api, p["id"], sid, "release").json["version"]
    barrier = threading.Barrier(OFFICERS)

    def claim_again(i):
        api = cast.api(app.test_client(), f"officer{i}")
        barrier.wait()
        return hold(api, p["id"], sid, "claim")

    with ThreadPoolExecutor(OFFICERS) as pool:
        again = list(pool.map(claim_again, range(OFFICERS)))
    assert sorted(r.status_code for r in again) == [200] + [409] * (OFFICERS - 1)
    with app.app_context():
        assert len(db.session.scalars(select(Deadline.holder_id).where(
            Deadline.trigger == "accept", Deadline.holder_id.is_not(None))).all()) == 1
    assert version


def test_a_deputy_acts_for_the_officer_within_the_range_only(client, cast):
    app = client.application
    p = declared(client, cast)
    jia, yi = cast.api(client, "jia"), cast.api(client, "yi")
    v = hold(jia, p["id"], step_id(jia, p["id"]), "claim").json["version"]
    # a cover that ended yesterday gives 乙 nothing
    cover(app, "jia", "yi", TODAY - timedelta(days=5), TODAY - timedelta(days=1))
    assert yi.get("/queue").json["items"] == []
    assert yi.fire(p["id"], "accept", v).status_code == 403
    # a cover in force today: 乙 sees 甲's step and takes it for 甲
    cover(app, "jia", "yi", TODAY, TODAY + timedelta(days=3))
    with app.app_context():
        project = get_project(cast_user("yi"), p["id"])
        last = TODAY + timedelta(days=3)
        assert [r.trigger for r in access.owed_rows(cast_user("yi"), project, last)] == ["accept"]
        assert access.owed_rows(cast_user("yi"), project, last + timedelta(days=1)) == []
    assert [i["trigger"] for i in yi.get("/queue").json["items"]] == ["accept"]
    done = yi.fire(p["id"], "accept", v)
    assert done.status_code == 200, done.json
    event = yi.get(f"/projects/{p['id']}/events").json["items"][-1]
    assert event["trigger"] == "accept" and event["actor"]["name"] == "yi 科员"
    assert event["on_behalf_of"] == "jia 经办人"
    with app.app_context():
        stored = db.session.scalar(select(WorkflowEvent).where(
            WorkflowEvent.trigger == "accept"))
        assert stored.on_behalf_of_id == cast_user("jia").id


def test_a_deputy_cannot_check_the_officers_own_maker_step(client, cast):
    app = client.application
    cast.agency("ndrc", "ndrc", "320500")
    p = declared(client, cast, financing_need="0", project_code="2603-320506-07-02-000009")
    ent, jia, yi, bing = (cast.api(client, n) for n in ("ent", "jia", "yi", "bing"))
    p = jia.fire(p["id"], "accept", p["version"]).json  # 甲 makes
    p = ent.fire(p["id"], "sign_commitment", p["version"], commitment_accepted=True).json
    p = cast.api(client, "ndrc").fire(p["id"], "file", p["version"], filing_number="备9").json
    p = ent.fire(p["id"], "report_completion", p["version"], actual_total_investment="4900",
                 actual_equipment_investment="3900", completed_on=TODAY.isoformat()).json
    checked = {"checked_total_investment": "4900", "checked_equipment_investment": "3900",
               "equipment_delivered": True, "retired_disposed": True}
    assert [i["trigger"] for i in yi.get("/queue").json["items"]] == ["verify_completion"]
    cover(app, "jia", "yi", TODAY, TODAY + timedelta(days=3))
    # 乙 stands in for 甲: one person with 甲, who accepted, so 乙 may not check
    assert yi.get("/queue").json["items"] == []
    refused = yi.fire(p["id"], "verify_completion", p["version"], **checked)
    assert refused.status_code == 403 and "Separation of duties" in refused.json["message"]
    assert bing.fire(p["id"], "verify_completion", p["version"], **checked).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Project.status)).value == "completed"


def test_delegations_from_the_command_line(clean_app, cast):
    runner = clean_app.test_cli_runner()
    start, end = TODAY.isoformat(), (TODAY + timedelta(days=2)).isoformat()
    made = runner.invoke(args=["delegations", "create", "jia", "yi", "--from", start,
                               "--to", end, "--reason", "产假"])
    assert made.exit_code == 0, made.output
    listed = runner.invoke(args=["delegations", "list"])
    assert "yi for jia" in listed.output and "in force" in listed.output
    later = (TODAY + timedelta(days=3)).isoformat()
    assert "over" in runner.invoke(args=["delegations", "list", "--today", later]).output
    refused = runner.invoke(args=["delegations", "create", "jia", "ent", "--from", start,
                                  "--to", end])
    assert refused.exit_code == 1 and "deputy" in refused.output
    delegation_id = made.output.split()[1].rstrip(":")
    assert runner.invoke(args=["delegations", "end", delegation_id]).exit_code == 0
    assert "ended" in runner.invoke(args=["delegations", "list"]).output
    with clean_app.app_context():
        logged = db.session.scalars(select(SecurityEvent.kind).where(
            SecurityEvent.kind.like("delegation_%")).order_by(SecurityEvent.id)).all()
        assert logged == ["delegation_created", "delegation_ended"]


def test_the_cover_page_names_each_bad_field_and_writes_nothing(clean_app, cast):
    web = signed_in(clean_app, "jia", lang="zh")
    start = TODAY.isoformat()
    bad = post(web, "/delegations", {"officer": "jia", "deputy": "jia", "starts_on": start,
                                     "ends_on": "不是日期"}, token_from="/delegations")
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    field = page[page.index('for="in-ends_on"') - 80:page.index('for="in-ends_on"') + 400]
    assert "field--invalid" in field and "field__error" in field
    same = post(web, "/delegations", {"officer": "jia", "deputy": "jia", "starts_on": start,
                                      "ends_on": start}, token_from="/delegations")
    assert same.status_code == 422 and "经办人不能代理自己" in same.get_data(as_text=True)
    assert post(web, "/delegations", {"officer": "jia", "deputy": "yi", "starts_on": start,
                                      "ends_on": start}, token_from="/delegations").status_code == 302
    # 丙, not a head, cannot name a deputy for 甲
    other = signed_in(clean_app, "bing")
    refused = post(other, "/delegations", {"officer": "jia", "deputy": "bing",
                                           "starts_on": start, "ends_on": start},
                   token_from="/delegations")
    assert refused.status_code == 403
    with clean_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Delegation)) == 1


def test_steps_per_officer_show_time_held_to_the_head_only(client, cast):
    p = declared(client, cast)
    jia = cast.api(client, "jia")
    hold(jia, p["id"], step_id(jia, p["id"]), "claim")
    head = signed_in(client.application, "chief").get("/").get_data(as_text=True)
    officer = signed_in(client.application, "bing").get("/").get_data(as_text=True)
    assert 'id="officers"' in head and 'id="officers"' in officer
    assert "Longest held (days)" in head or "最长持有" in head
    assert "Longest held (days)" not in officer and "最长持有" not in officer


def test_the_project_page_claims_and_names_a_missing_reason_beside_its_field(client, cast):
    p = declared(client, cast)
    sid = step_id(cast.api(client, "jia"), p["id"])
    page = f"/projects/{p['id']}"
    jia = signed_in(client.application, "jia", lang="zh")
    assert "待认领" in jia.get(page).get_data(as_text=True)
    claimed = post(jia, f"{page}/steps/{sid}/claim", {"version": p["version"]}, token_from=page)
    assert claimed.status_code == 302
    assert "已由 jia 经办人 认领" in jia.get(page).get_data(as_text=True)
    chief = signed_in(client.application, "chief", lang="zh")
    shown = cast.api(client, "chief").get(page).json
    bad = post(chief, f"{page}/steps/{sid}/reassign", {"version": shown["version"], "to": "bing",
                                                        "reason": ""}, token_from=page)
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    field = body[body.index(f'for="reason-{sid}"'):][:400]
    assert "请说明转办理由" in field
    assert cast.api(client, "chief").get(page).json["version"] == shown["version"]
