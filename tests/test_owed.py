"""One answer to "who owes what now".

Every definition is walked along its paths — commitment filing with a financing need (and,
where the document has them, a lead-bank claim and designation), refinancing of the loan, a
return at declaration and a returned completion report, maker-checker at verification; and
ordinary filing with its preliminary procedures. After every step, for every member of the
cast: the API's queue, the workbench count and the project page's "waiting for you" actions
list exactly the steps the engine lets that person take now; and whoever newly owes a step
was told once.
"""

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from app import access
from app.extensions import db
from app.models import ListEntry, Notification, Project, User, china_today
from app.review.workbench import workbench
from app.workflow.vocabulary import TRIGGERS
from tests.helpers import project_payload
from tests.test_workflows_all import AREAS, CODE_SEGMENT, DATA, DEFINITIONS, build_cast, holder

COMMITMENT = ["submit", "return", "submit", "accept", "sign_commitment", "file", "whitelist",
              "express_interest", "approve_credit", "claim_lead_bank", "designate_lead_bank",
              "sign_contract", "record_loan", "confirm_refinancing", "report_completion",
              "return_completion", "report_completion", "verify_completion"]
ORDINARY = ["submit", "accept", "record_opinion", "file", "report_completion",
            "verify_completion"]


def path_of(definition, path):
    """The path's steps the definition has, a county recommendation before acceptance, one
    opinion per consulted department."""
    steps = []
    for trigger in path:
        specs = definition.transitions_for(trigger)
        if not specs:
            continue
        if trigger == "accept" and definition.transitions_for("recommend"):
            steps.append("recommend")
        steps += [trigger] * (len({s.role for s in specs}) if trigger == "record_opinion"
                              else max(len(specs[0].all_of), 1))  # 会签: each agency signs
    return steps


def expected(actions, project) -> set[str]:
    """Of what the engine lets the reader take now, what someone owes (not an option beside
    it); a whitelisting is owed once (a second list is an option)."""
    listed = db.session.scalar(select(func.count()).select_from(ListEntry)
                               .where(ListEntry.project_id == project.id))
    return {a.trigger for a in actions
            if a.ready and TRIGGERS[a.trigger].owed and not (a.trigger == "whitelist" and listed)}


def organisations(app, names) -> dict[str, tuple[int, str]]:
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User).where(
            User.username.in_(list(names))))}
        return {name: (users[name].organization_id, str(users[name].organization.kind))
                for name in names}


def told(app, names) -> dict[str, int]:
    with app.app_context():
        return {name: db.session.scalar(
            select(func.count()).select_from(Notification).join(User)
            .where(User.username == name, Notification.kind == "your_turn")) for name in names}


def check(app, client, cast, roles, project_id, today) -> dict[str, set[str]]:
    """Each member's owed steps on the project, the same by queue, workbench and page."""
    owed = {}
    for name in roles:
        queue = cast.api(client, name).get("/queue", limit=200).json
        listed = {item["trigger"] for item in queue["items"] if item["project"]["id"] == project_id}
        with app.app_context():
            user = db.session.scalar(select(User).where(User.username == name))
            project = db.session.scalar(select(Project).where(
                Project.public_id == uuid.UUID(project_id)))
            # the project page's panel is this (tests/test_page_permissions.py renders it)
            panel = access.action_panel(user, project)
            want = expected(panel.owed + panel.other + panel.blocked, project)
            panel = {a.trigger for a in panel.owed}
            count = workbench(user, today).totals.get("owed", 0)
        assert listed == want == panel, (name, listed, want, panel)
        assert count == len(queue["items"]), (name, count, queue["items"])
        owed[name] = listed
    return owed


@pytest.mark.parametrize("path_name", ["commitment", "ordinary"])
@pytest.mark.parametrize("key", sorted(AREAS))
def test_queue_workbench_and_panel_agree_after_every_step(clean_app, client, key, path_name):
    definition = DEFINITIONS[key]
    cast, roles = build_cast(clean_app, key)
    county = AREAS[key][1]
    commitment = path_name == "commitment"
    owner = cast.api(client, f"{key}-ent")
    project = owner.post("/projects", project_payload(
        jurisdiction=county, project_code=f"2503-{CODE_SEGMENT[county]}-07-02-000001",
        **({} if commitment else {"new_land": True, "financing_need": "0"}))).json
    today = china_today()
    orgs = organisations(clean_app, roles)
    before = check(clean_app, client, cast, roles, project["id"], today)
    assert before[f"{key}-ent"] == {"submit"}  # a complete draft waits for its enterprise

    lead_bank, done_opinions, done_by = None, set(), {}
    for trigger in path_of(definition, COMMITMENT if commitment else ORDINARY):
        spec, actor = holder(definition, trigger, project["status"], roles, lead_bank,
                             done_opinions, done_by)
        data = DATA.get(trigger, {})
        if trigger == "confirm_refinancing":
            loans = owner.get(f"/projects/{project['id']}/financing").json["loans"]
            data = {"loan": loans[0]["id"], "refinanced_on": "2025-07-01"}
        was_told = told(clean_app, roles)
        response = cast.api(client, actor).fire(project["id"], trigger, project["version"],
                                                comment="意见", **data)
        assert response.status_code == 200, (trigger, actor, response.json)
        project = response.json
        done_by[trigger] = actor
        if trigger == "claim_lead_bank" or (trigger == "sign_contract" and lead_bank is None):
            lead_bank = actor
        if trigger == "record_opinion" or spec.all_of:
            done_opinions.add(spec.role)

        after = check(clean_app, client, cast, roles, project["id"], today)
        now_told = told(clean_app, roles)
        for name in roles:
            gained = after[name] - before[name]
            # an enterprise or bank is not told of what its own step made it owe
            own = orgs[name][0] == orgs[actor][0] and orgs[name][1] != "agency"
            wanted = 1 if gained and name != actor and not own else 0
            assert now_told[name] - was_told[name] == wanted, (trigger, name, gained)
        before = after

    assert project["status"] == "completed"
    assert all(not steps for steps in before.values())  # a completed project owes nothing


def test_after_a_claim_the_peoples_bank_owes_the_designation(clean_app, client):
    """The defect as first seen: heilongjiang, a bank claims; the branch's queue, workbench
    and notifications stayed empty though its project page offered 确定主办行."""
    key = "heilongjiang-2024-67"
    cast, roles = build_cast(clean_app, key)
    owner = cast.api(client, f"{key}-ent")
    p = owner.post("/projects", project_payload(jurisdiction="230110",
                                                project_code="2503-230110-07-02-000002")).json
    for trigger in ("submit", "accept", "sign_commitment", "file", "whitelist"):
        spec, actor = holder(DEFINITIONS[key], trigger, p["status"], roles, None, set(), {})
        p = cast.api(client, actor).fire(p["id"], trigger, p["version"], **DATA.get(trigger, {})).json
    pboc = cast.api(client, f"{key}-pboc")
    assert pboc.get("/queue").json["items"] == []
    p = cast.api(client, f"{key}-bank1").fire(p["id"], "claim_lead_bank", p["version"]).json
    [item] = pboc.get("/queue").json["items"]
    assert item["trigger"] == "designate_lead_bank" and item["due"] is not None
    assert told(clean_app, [f"{key}-pboc"])[f"{key}-pboc"] == 1


def test_a_refinanced_loan_leaves_the_queue(clean_app, client):
    """After 确认再贷款支持 on the only loan, nothing stays in the people's bank's queue."""
    key = "national-miit-2024-53"
    cast, roles = build_cast(clean_app, key)
    owner = cast.api(client, f"{key}-ent")
    p = owner.post("/projects", project_payload(project_code="2503-320506-07-02-000003")).json
    path = ["submit", "accept", "sign_commitment", "file", "whitelist", "express_interest",
            "approve_credit", "sign_contract", "record_loan"]
    lead = None
    for trigger in path:
        spec, actor = holder(DEFINITIONS[key], trigger, p["status"], roles, lead, set(), {})
        lead = lead or (actor if trigger == "sign_contract" else None)
        p = cast.api(client, actor).fire(p["id"], trigger, p["version"], **DATA.get(trigger, {})).json
    pboc = cast.api(client, f"{key}-pboc")
    assert [i["trigger"] for i in pboc.get("/queue").json["items"]] == ["confirm_refinancing"]
    loans = owner.get(f"/projects/{p['id']}/financing").json["loans"]
    pboc.fire(p["id"], "confirm_refinancing", p["version"], loan=loans[0]["id"],
              refinanced_on=date.today().isoformat())
    assert pboc.get("/queue").json["items"] == []


def test_the_maker_is_told_why_a_colleague_must_check(clean_app, client):
    """Maker-checker: the clerk who accepted sees 竣工核验 owed by a colleague, with the
    reason, not "nothing to do"; the colleague has it in their queue."""
    key = "national-miit-2024-53"
    cast, roles = build_cast(clean_app, key)
    owner = cast.api(client, f"{key}-ent")
    p = owner.post("/projects", project_payload(financing_need="0",
                                                project_code="2503-320506-07-02-000004")).json
    maker = f"{key}-{'miit'}"
    for trigger, actor, data in (("submit", f"{key}-ent", {}), ("accept", maker, {}),
                                 ("sign_commitment", f"{key}-ent", DATA["sign_commitment"]),
                                 ("file", f"{key}-ndrc", DATA["file"]),
                                 ("report_completion", f"{key}-ent", DATA["report_completion"])):
        p = cast.api(client, actor).fire(p["id"], trigger, p["version"], **data).json
    assert cast.api(client, maker).get("/queue").json["items"] == []
    [item] = cast.api(client, f"{key}-checker").get("/queue").json["items"]
    assert item["trigger"] == "verify_completion"
    waiting = cast.api(client, maker).get(f"/projects/{p['id']}").json["waiting_for"]
    [verify] = [w for w in waiting if w["trigger"] == "verify_completion"]
    assert verify["yours"] is False and "colleague" in verify["why_not_yours"]


def test_no_definition_lets_an_agency_act_on_a_draft():
    """The agencies' queue asks nothing of a project's status because no agency ever owes a
    step on a draft (the one status they may not see): `workflows check` refuses a
    definition in which anyone but the enterprise acts on one."""
    from pathlib import Path

    from app.workflow.definitions import DefinitionError, parse_text

    path = Path(__file__).parent.parent / "workflows" / "liaocheng-2024-draft.toml"
    text = path.read_text(encoding="utf-8")
    old = 'trigger = "accept"\nsource = "declared"\n'
    assert old in text
    parse_text(text, path)  # as it stands
    with pytest.raises(DefinitionError, match="only the enterprise acts on a draft"):
        parse_text(text.replace(old, old.replace('"declared"', '["draft", "declared"]')), path)
