"""All five documents as workflows: each step belongs to exactly the role its definition names.

A project walks the whole path under each definition (once by commitment filing with a
financing need, once by ordinary filing with its preliminary procedures and no financing). At
each step every other user of the cast tries first: those who can see the project get 403,
those who cannot see it get 404, and nothing changes; then the named role succeeds. Steps a
document does not have (a lead-bank claim where no agency designates one) are passed over.
"""

from datetime import date
from pathlib import Path

import pytest

from app.models import AgencyKind, china_today
from app.workflow.definitions import load_definitions
from tests.helpers import Cast, counts, project_payload

DEFINITIONS = {d.key: d for d in load_definitions(Path(__file__).parent.parent / "workflows")}

# definition key -> (where its agencies sit, the project's county, another county)
AREAS = {
    "national-miit-2024-53": ("320500", "320506", "320583"),
    "heilongjiang-2024-67": ("230000", "230110", "230103"),
    "shanxi-2024": ("140000", "140105", "140106"),
    "liaocheng-2024-draft": ("371500", "371502", "371521"),
    "luoyang-2024-73": ("410300", "410305", "410311"),
}
CODE_SEGMENT = {"320506": "320506", "230110": "230110", "140105": "140105", "371502": "371502",
                "410305": "410305"}

COMMITMENT_PATH = ["submit", "accept", "sign_commitment", "file", "whitelist", "express_interest",
                   "approve_credit", "claim_lead_bank", "designate_lead_bank", "sign_contract",
                   "record_loan", "confirm_refinancing", "report_completion",
                   "verify_completion"]
ORDINARY_PATH = ["submit", "accept", "record_opinion", "file", "report_completion",
                 "verify_completion"]
DATA = {
    "sign_commitment": {"commitment_accepted": True},
    "record_opinion": {"opinion": "approve", "reference": "意见〔2025〕1号"},
    "file": {"filing_number": "备〔2025〕8号"},
    "whitelist": {"list": "relending", "batch": "2025-1"},
    "approve_credit": {"amount": "2000", "approved_on": "2025-05-20"},
    "sign_contract": {"amount": "1500", "signed_on": "2025-05-28", "contract_number": "借2号",
                      "term_months": 36},
    "record_loan": {"amount": "800", "drawdown_date": "2025-06-01",
                    "supplier_paid_date": "2025-06-02"},
    "report_completion": {"actual_total_investment": "4950", "actual_equipment_investment": "3950",
                          "completed_on": china_today().isoformat()},
    "verify_completion": {"checked_total_investment": "4950",
                          "checked_equipment_investment": "3950", "equipment_delivered": True,
                          "retired_disposed": True},
}


LEVEL_OF = {"230000": "province", "140000": "province", "320500": "city", "371500": "city",
            "410300": "city"}


def build_cast(app, key) -> tuple[Cast, dict[str, str]]:
    """Every agency kind in the area, county clerks here and elsewhere, two enterprises, two
    banks. Returns the cast and each user's (role, jurisdiction level)."""
    agencies, county, other_county = AREAS[key]
    cast = Cast(app)
    roles = {}
    for kind in AgencyKind:
        roles[cast.agency(f"{key}-{kind}", kind.value, agencies)] = (f"agency:{kind}",
                                                                     LEVEL_OF[agencies])
    roles[cast.agency(f"{key}-county", "miit", county)] = ("agency:miit", "county")
    roles[cast.agency(f"{key}-checker", "miit", agencies)] = ("agency:miit", LEVEL_OF[agencies])
    roles[cast.agency(f"{key}-county-other", "miit", other_county)] = ("agency:miit", "other")
    roles[cast.enterprise(f"{key}-ent", county)] = ("enterprise", None)
    roles[cast.enterprise(f"{key}-ent-other", county)] = ("other enterprise", None)
    for n in (1, 2):
        roles[cast.bank(f"{key}-bank{n}", serves=(agencies,))] = ("bank", None)
    return cast, roles


def holds(spec, username, role, level, lead_bank) -> bool:
    """Whether the cast member holds the role (and level) the step's definition names."""
    if spec.role == "lead_bank":
        return username == lead_bank
    return role == spec.role and level != "other" and (
        not spec.levels or level in spec.level_key.split("/"))


def holder(definition, trigger, status, roles, lead_bank, done_opinions, done_by):
    """The first (spec, username) that may fire `trigger` now, per the definition (not a
    clerk who took a step the definition wants checked by someone else; not a department
    that gave its opinion or signed its part of a joint step: `done_opinions`)."""
    for spec in definition.transitions_for(trigger):
        if status not in spec.sources or ((trigger == "record_opinion" or spec.all_of)
                                          and spec.role in done_opinions):
            continue
        for username, (role, level) in roles.items():
            if holds(spec, username, role, level, lead_bank) and not any(
                    done_by.get(other) == username for other in spec.distinct_from):
                return spec, username
    raise AssertionError(f"no cast member holds {trigger} from {status}")


def expected_refusal(role, level, whitelisted, project_status):
    """403 for those who can see the project, 404 for those who cannot."""
    if role == "other enterprise" or level == "other":
        return 404
    if role == "bank":
        return 403 if whitelisted else 404
    if role.startswith("agency:") and project_status == "draft":
        return 404
    return 403


def steps_for(definition, path):
    triggers = []
    for trigger in path:
        if not definition.transitions_for(trigger):
            continue  # e.g. a lead-bank claim where no agency designates one
        if trigger == "accept" and definition.transitions_for("recommend"):
            triggers.append("recommend")
        if trigger == "record_opinion":
            triggers += ["record_opinion"] * len(definition.transitions_for("record_opinion"))
            continue
        # 会签: each agency named signs by its own step
        triggers += [trigger] * max(len(definition.transitions_for(trigger)[0].all_of), 1)
    return triggers


@pytest.mark.parametrize("path_name", ["commitment", "ordinary"])
@pytest.mark.parametrize("key", sorted(AREAS))
def test_each_step_belongs_to_exactly_its_role(clean_app, client, key, path_name):
    definition = DEFINITIONS[key]
    cast, roles = build_cast(clean_app, key)
    county = AREAS[key][1]
    commitment = path_name == "commitment"
    payload = project_payload(
        jurisdiction=county, project_code=f"2503-{CODE_SEGMENT[county]}-07-02-000001",
        **({} if commitment else {"new_land": True, "financing_need": "0"}))
    owner = cast.api(client, f"{key}-ent")
    project = owner.post("/projects", payload).json
    lead_bank, whitelisted, done_opinions, done_by = None, False, set(), {}

    for trigger in steps_for(definition, COMMITMENT_PATH if commitment else ORDINARY_PATH):
        spec, actor = holder(definition, trigger, project["status"], roles, lead_bank,
                             done_opinions, done_by)
        data = DATA.get(trigger, {})
        if trigger == "confirm_refinancing":
            loans = owner.get(f"/projects/{project['id']}/financing").json["loans"]
            data = {"loan": loans[0]["id"], "refinanced_on": "2025-07-01"}
        before = counts(clean_app, project["id"])
        for username, (role, level) in roles.items():
            if any(holds(alt, username, role, level, lead_bank)
                   and not any(done_by.get(o) == username for o in alt.distinct_from)
                   for alt in definition.transitions_for(trigger)
                   if project["status"] in alt.sources):
                continue  # entitled too (another bank, another consulted department)
            response = cast.api(client, username).fire(project["id"], trigger,
                                                       project["version"], comment="试图办理",
                                                       **data)
            expected = expected_refusal(role, level, whitelisted, project["status"])
            assert response.status_code == expected, (trigger, username, response.json)
        assert counts(clean_app, project["id"]) == before

        response = cast.api(client, actor).fire(project["id"], trigger, project["version"],
                                                 comment="同意", **data)
        assert response.status_code == 200, (trigger, actor, response.json)
        project = response.json
        whitelisted = whitelisted or trigger == "whitelist"
        done_by[trigger] = actor
        if trigger == "claim_lead_bank" or (trigger == "sign_contract" and lead_bank is None):
            lead_bank = actor
        if trigger == "record_opinion" or spec.all_of:
            done_opinions.add(spec.role)

    assert project["status"] == "completed"
    assert project["lead_bank"] == (None if not commitment else {
        "id": project["lead_bank"]["id"], "name": f"{key}-bank1银行"})
    events = owner.get(f"/projects/{project['id']}/events").json["items"]
    # cited by the document's title (《…》 in Chinese, bare in English), never by its file
    assert all(e["citation"].startswith(definition.title) for e in events[1:]), events
    assert definition.source not in str(events)
    assert {e["workflow"] for e in events[1:]} == {key}


ROUTING = {
    # (definition, trigger): (role, words of the clause or of our note on it)
    ("liaocheng-2024-draft", "file"): ("agency:approval", "市行政审批服务局"),
    ("luoyang-2024-73", "file"): ("agency:ndrc", "市发展改革委"),
    ("shanxi-2024", "file"): ("agency:approval", "省审批服务管理局"),
    ("heilongjiang-2024-67", "file"): ("agency:ndrc", "省发改委"),
    ("national-miit-2024-53", "file"): ("agency:ndrc", "推广承诺备案制"),
    ("heilongjiang-2024-67", "designate_lead_bank"): (None, "国家金融监督管理总局黑龙江监管局"),
    ("luoyang-2024-73", "whitelist"): ("agency:finance", "洛阳市金融发展服务中心"),
    ("liaocheng-2024-draft", "recommend"): ("agency:miit", "各县（市、区）人民政府"),
    ("luoyang-2024-73", "recommend"): ("agency:miit", "县区"),
    ("shanxi-2024", "record_opinion"): (None, "加快能评、环评"),
}


@pytest.mark.parametrize(("key", "trigger"), sorted(ROUTING))
def test_routing_is_pinned_with_its_clause(key, trigger):
    role, words = ROUTING[(key, trigger)]
    specs = DEFINITIONS[key].transitions_for(trigger)
    assert specs and (role is None or {s.role for s in specs} == {role})
    assert any(words in spec.quote or words in spec.note for spec in specs)
    for spec in specs:
        assert spec.clause in DEFINITIONS[key].clauses and spec.quote
        assert spec.time_limit in DEFINITIONS[key].settings


@pytest.mark.parametrize("key", ["national-miit-2024-53", "shanxi-2024", "liaocheng-2024-draft",
                                 "luoyang-2024-73"])
def test_only_heilongjiang_designates_a_lead_bank(key):
    definition = DEFINITIONS[key]
    assert not {"claim_lead_bank", "decline_claim", "designate_lead_bank"} & {
        t.trigger for t in definition.transitions}
    first = next(t for t in definition.transitions_for("sign_contract")
                 if "financing_matchmaking" in t.sources)
    assert first.dest == "lead_bank_designated"
    hlj = DEFINITIONS["heilongjiang-2024-67"]
    assert {t.role for t in hlj.transitions_for("designate_lead_bank")} == {"agency:pboc",
                                                                          "agency:finance"}


def test_luoyang_consults_no_environment_department():
    roles = {t.role for t in DEFINITIONS["luoyang-2024-73"].transitions_for("record_opinion")}
    assert roles == {"agency:land", "agency:ndrc"}


def test_liaocheng_review_is_county_then_city():
    specs = {(s.trigger, s.level_key)
             for s in DEFINITIONS["liaocheng-2024-draft"].transitions if s.role == "agency:miit"}
    assert ("recommend", "county") in specs and ("accept", "city") in specs
    accept = DEFINITIONS["liaocheng-2024-draft"].transitions_for("accept")[0]
    assert "recommended" in accept.guards


def test_every_agency_step_has_a_time_limit_the_agency_owns():
    """No document sets a time limit: each is a local setting, with its owner."""
    for definition in DEFINITIONS.values():
        for spec in definition.transitions:
            if spec.agency_kind:
                setting = definition.time_limit(spec)
                assert setting and setting.basis.kind == "local", (definition.key, spec.trigger)
                assert setting.basis.owner.startswith("agency:")


def test_county_clerk_cannot_act_on_another_countys_project(clean_app, client):
    cast, _roles = build_cast(clean_app, "liaocheng-2024-draft")
    owner = cast.api(client, "liaocheng-2024-draft-ent")
    project = owner.post("/projects", project_payload(jurisdiction="371502")).json
    project = owner.fire(project["id"], "submit", 1).json
    other = cast.api(client, "liaocheng-2024-draft-county-other")
    assert other.fire(project["id"], "recommend", project["version"]).status_code == 404
    assert other.get("/projects").json["items"] == []
    city = cast.api(client, "liaocheng-2024-draft-miit")
    refused = city.fire(project["id"], "accept", project["version"])
    assert refused.status_code == 422 and "county-level" in refused.json["message"]
    own = cast.api(client, "liaocheng-2024-draft-county")
    assert own.fire(project["id"], "recommend", project["version"]).status_code == 200


def test_definition_choice_is_the_most_specific_in_force(clean_app):
    from app.workflow import workflows

    with clean_app.app_context():
        engine = workflows()
        on = date(2026, 6, 1)
        assert engine.resolve("410305", on).key == "luoyang-2024-73"
        assert engine.resolve("371502", on).key == "liaocheng-2024-draft"
        assert engine.resolve("230110", on).key == "heilongjiang-2024-67"
        assert engine.resolve("140105", on).key == "shanxi-2024"
        assert engine.resolve("320506", on).key == "national-miit-2024-53"
        # before Luoyang's document was issued, Henan has no own document: the national one
        assert engine.resolve("410305", date(2024, 7, 15)).key == "national-miit-2024-53"


def test_declaring_under_luoyang_after_expiry_is_refused(clean_app):
    from app.errors import Invalid
    from app.extensions import db
    from app.projects.operations import create_project
    from app.rules.project_input import ProjectCreate
    from app.workflow import workflows

    cast = Cast(clean_app)
    cast.enterprise("ent", "410305")
    with clean_app.app_context():
        project = create_project(cast.user("ent"), ProjectCreate.model_validate(
            project_payload(jurisdiction="410305", batch_year=2028), strict=False))
        with pytest.raises(Invalid) as refused:
            workflows().fire(project, "submit", cast.user("ent"), version=1,
                             today=date(2028, 1, 3))
        assert "洛工信〔2024〕73号" in refused.value.message
        assert "2027年12月31日" in refused.value.message
        db.session.rollback()
        workflows().fire(project, "submit", cast.user("ent"), version=1, today=date(2027, 12, 31))
        assert project.workflow_key == "luoyang-2024-73"


def test_shanxi_files_a_project_adding_land_straight_after_acceptance(clean_app, client):
    """Shanxi 四(五) speeds up 能评、环评 but does not make them a gate: the approval bureau
    files on receipt, and land, energy and environment run beside the filing, each owed by
    its own department on its clock."""
    cast, _roles = build_cast(clean_app, "shanxi-2024")
    owner = cast.api(client, "shanxi-2024-ent")
    p = owner.post("/projects", project_payload(
        jurisdiction="140105", new_land=True, financing_need="0",
        project_code="2503-140105-07-02-000001")).json
    p = owner.fire(p["id"], "submit", p["version"]).json
    p = cast.api(client, "shanxi-2024-miit").fire(p["id"], "accept", p["version"]).json
    owed = {d["role"] for d in p["deadlines"] if d["trigger"] == "record_opinion"}
    assert owed == {"agency:land", "agency:energy", "agency:env"}

    filed = cast.api(client, "shanxi-2024-approval").fire(p["id"], "file", p["version"],
                                                         filing_number="晋审批备〔2025〕5号")
    assert filed.status_code == 200, filed.json
    p = filed.json
    assert p["filing_number"] == "晋审批备〔2025〕5号" and p["procedures"] == []
    still = {d["role"] for d in p["deadlines"] if d["trigger"] == "record_opinion"}
    assert still == owed  # the procedures go on after the filing
    env = cast.api(client, "shanxi-2024-env").fire(p["id"], "record_opinion", p["version"],
                                                   opinion="approve", reference="晋环审〔2025〕2号")
    assert env.status_code == 200, env.json
    assert [o["role"] for o in env.json["procedures"]] == ["agency:env"]
