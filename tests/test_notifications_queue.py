"""Whoever must act next is told (in-app and by e-mail); the enterprise hears every decision.
An agency's queue lists the steps its role owes, with filters, pages and bulk decisions."""

import logging
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, User
from tests.helpers import Cast, counts, project_payload
from tests.web import csrf_token, post, signed_in, text_of


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    cast.agency("miit", "miit", "320500")
    cast.agency("miit_province", "miit", "320000")
    cast.agency("miit_far", "miit", "230000")
    cast.agency("ndrc", "ndrc", "320500")
    with clean_app.app_context():
        for user in db.session.scalars(select(User)):
            user.email = f"{user.username}@example.cn"
        db.session.commit()
    return cast


def inbox(app, username):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return [(n.kind, n.trigger) for n in db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))]


def test_next_actor_and_enterprise_are_told(clean_app, client, cast, caplog):
    api = cast.api(client, "ent_a")
    project = api.post("/projects", project_payload()).json
    with caplog.at_level(logging.INFO, logger="jigai.mail"):
        project = api.fire(project["id"], "submit", 1).json
    # the agencies of the role the step now waits for, in the project's jurisdiction and above
    assert inbox(clean_app, "miit") == [("your_turn", "submit")]
    assert inbox(clean_app, "miit_province") == [("your_turn", "submit")]
    assert inbox(clean_app, "miit_far") == [] and inbox(clean_app, "ndrc") == []
    assert inbox(clean_app, "ent_a") == []  # its own act
    assert any("miit@example.cn" in r.getMessage() and "同意入库" in r.getMessage()
               for r in caplog.records)

    cast.api(client, "miit").fire(project["id"], "return", project["version"],
                                  comment="请补充能效证明")
    # told once: what was decided, and that it is the enterprise's turn again
    assert inbox(clean_app, "ent_a") == [("your_turn", "return")]
    page = signed_in(clean_app, "ent_a")
    home = page.get("/")
    assert re.search(r'class="bell__count"[^>]*>1<', home.get_data(as_text=True))
    listing = text_of(page.get("/notifications"))
    assert "退回补正" in listing and "请补充能效证明" in listing
    post(page, "/notifications/read", {}, "/notifications")
    assert 'class="bell__count"' not in page.get("/").get_data(as_text=True)


def test_mail_is_not_sent_when_the_decision_fails(clean_app, client, cast, caplog):
    api = cast.api(client, "ent_a")
    project = api.post("/projects", project_payload(content=None)).json
    with caplog.at_level(logging.INFO, logger="jigai.mail"):
        refused = api.fire(project["id"], "submit", 1)
    assert refused.status_code == 422
    assert not [r for r in caplog.records if r.name == "jigai.mail"]
    assert inbox(clean_app, "miit") == []


def _declared(client, cast, n, start=0, **overrides):
    api = cast.api(client, "ent_a")
    made = []
    for i in range(start, start + n):
        p = api.post("/projects", project_payload(name=f"项目{i:02d}", **overrides)).json
        made.append(api.fire(p["id"], "submit", p["version"]).json)
    return made


def test_queue_counts_filters_and_pages(clean_app, client, cast):
    _declared(client, cast, 5, industry="新材料")
    _declared(client, cast, 2, start=5, industry="高端装备", jurisdiction="320583")
    miit = signed_in(clean_app, "miit")
    page = text_of(miit.get("/queue"))
    assert "同意入库 · 7" in page
    assert text_of(miit.get("/queue?industry=高端装备")).count("项目0") == 2
    assert "项目05" in text_of(miit.get("/queue?region=320583"))
    assert "项目05" not in text_of(miit.get("/queue?region=320506"))
    seen, url = [], "/queue?sort=newest"
    while url:
        html = miit.get(url).get_data(as_text=True)
        seen += re.findall(r">(项目\d\d)</a>", html)
        found = re.search(r'class="pager__next" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
        if len(seen) > 20:
            break
    assert len(seen) == 7 and len(set(seen)) == 7
    assert "暂无待办项目" in text_of(miit.get("/queue?overdue=1"))  # nothing overdue yet
    assert signed_in(clean_app, "ndrc").get("/queue").status_code == 200
    assert "项目0" not in text_of(signed_in(clean_app, "ndrc").get("/queue"))
    # the enterprise's own to-do: nothing while its declarations are with the agency
    assert "项目0" not in text_of(signed_in(clean_app, "ent_a").get("/queue"))


def test_bulk_offers_only_common_steps_confirms_and_reports_each(clean_app, client, cast):
    projects = _declared(client, cast, 3)
    miit = signed_in(clean_app, "miit")
    token = csrf_token(miit, "/queue")
    pick = [f"{p['id']}:{p['version']}" for p in projects[:2]]
    confirm = miit.post("/queue/bulk", data={"csrf_token": token, "project": pick})
    page = text_of(confirm)
    assert confirm.status_code == 200 and "确认办理2个项目" in page
    assert [counts(clean_app, p["id"])[0] for p in projects] == ["declared"] * 3  # not yet
    offered = re.findall(r'name="step" value="(\w+)"', confirm.get_data(as_text=True))
    assert offered == ["accept", "return", "reject"]  # the owed step first
    result = miit.post("/queue/bulk/apply", data={"csrf_token": token, "step": "accept",
                                                  "project": pick, "comment": "同意"})
    assert "同意入库：2个项目中已办理2个" in text_of(result)
    assert [counts(clean_app, p["id"])[0] for p in projects] == [
        "commitment_filing", "commitment_filing", "declared"]
    # a mixed selection: nothing in common, and each project's own steps are named
    third = f"{projects[2]['id']}:{projects[2]['version']}"
    mixed = text_of(miit.post("/queue/bulk", data={"csrf_token": token,
                                                    "project": [pick[0], third]}))
    assert "没有您可一并办理的共同事项" in mixed
    # returning needs a comment: refused for that project, with the reason, nothing changes
    result = text_of(miit.post("/queue/bulk/apply", data={"csrf_token": token, "step": "return",
                                                          "project": [third]}))
    assert "未办理" in result and counts(clean_app, projects[2]["id"])[0] == "declared"
    # a stale version (someone acted in between) is refused for that project alone
    stale = f"{projects[0]['id']}:{projects[0]['version']}"
    result = text_of(miit.post("/queue/bulk/apply", data={
        "csrf_token": token, "step": "return", "project": [stale, third], "comment": "请补充材料"}))
    assert "退回补正：2个项目中已办理1个" in result
    assert counts(clean_app, projects[0]["id"])[0] == "commitment_filing"
    assert counts(clean_app, projects[2]["id"])[0] == "returned"
