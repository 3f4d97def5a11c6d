"""Every transition of the national definition, refused four ways, and then allowed.

For each (trigger, source state) pair the definition declares: the wrong role gets 403, the
same role from another jurisdiction cannot even see the project (404), a stale version gets
409, a failing guard or missing input gets 422 with the reason — and each time the project's
status, version and audit-event count stay as they were. Finally the right actor succeeds,
so the scenario itself is sound.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import china_today
from app.review import progress
from app.workflow.definitions import parse_definition
from tests.helpers import Cast, close_batch, counts, project_payload

NATIONAL = parse_definition(Path(__file__).parent.parent / "workflows"
                            / "national-miit-2024-53.toml")

DECLARED = [("submit", "ent_a")]
IN_FILING = [*DECLARED, ("accept", "miit")]
SIGNED = [*IN_FILING, ("sign_commitment", "ent_a")]
MATCHMAKING = [*SIGNED, ("file", "ndrc")]
WHITELISTED = [*MATCHMAKING, ("whitelist", "miit")]
INTERESTED = [*WHITELISTED, ("express_interest", "bank1")]
CREDITED = [*INTERESTED, ("approve_credit", "bank1")]
# No agency designates a lead bank under the national document: bank1's contract makes it lead.
CONTRACTED = [*CREDITED, ("sign_contract", "bank1")]
OTHER_LEADS = [*WHITELISTED, ("express_interest", "bank2"), ("approve_credit", "bank2"),
               ("sign_contract", "bank2")]
# bank1 is interested too, but bank2 signs first and leads; bank1 decides afterwards.
BANK2_LEADS = [*WHITELISTED, ("express_interest", "bank1"), ("express_interest", "bank2"),
               ("approve_credit", "bank2"), ("sign_contract", "bank2")]
LENT = [*CONTRACTED, ("record_loan", "bank1")]
REPORTED = [*CONTRACTED, ("report_completion", "ent_a")]
ENDED = [*WHITELISTED, ("end_matchmaking", "ent_a")]
RETURNED = [*DECLARED, ("return", "miit")]
ORDINARY_FILED = [*IN_FILING, ("file", "ndrc")]
NO_FINANCING = {"financing_need": "0"}
ORDINARY = {"new_land": True}
BIG_CHANGE = ("edit", {"total_investment": "8000"})  # +60%: needs a change filing
TODAY = china_today().isoformat()

STEP_DATA = {
    "sign_commitment": {"commitment_accepted": True},
    "file": {"filing_number": "苏行审备〔2025〕1号", "project_code": "2503-320506-07-02-000001"},
    "whitelist": {"list": "relending", "batch": "2025-1"},
    "record_loan": {"amount": "1000", "drawdown_date": "2025-05-01",
                    "supplier_paid_date": "2025-05-03"},
    "report_completion": {"actual_total_investment": "4900",
                          "actual_equipment_investment": "3900", "completed_on": TODAY},
    "verify_completion": {"checked_total_investment": "4900",
                          "checked_equipment_investment": "3900", "equipment_delivered": True,
                          "retired_disposed": True},
    "record_opinion": {"opinion": "approve", "reference": "苏自然资函〔2025〕1号"},
    "approve_change": {"filing_number": "苏行审备〔2025〕1号-变1"},
    "approve_credit": {"amount": "2000", "approved_on": "2025-04-20"},
    "sign_contract": {"amount": "2000", "signed_on": "2025-04-28", "contract_number": "借1号",
                      "term_months": 36},
    "report_progress": {"month": TODAY[:7], "investment_completed": "800",
                        "percent_complete": 20, "problems": "需协调供电增容。"},
}
# The daily check finds the project stalled (no report, no start) three years on.
WARNED = ("warn_stalled", None)


@dataclass
class Breach:
    """How to make the step fail a guard or a required input, and the reason expected."""

    reason: str
    payload: dict = field(default_factory=dict)  # project overrides
    path: list | None = None  # a different way to the source state
    data: dict | None = None  # different step data
    comment: str | None = "ok"


@dataclass
class Scenario:
    path: list
    actor: str
    wrong_role: str
    outsider: str
    breach: Breach
    payload: dict = field(default_factory=dict)
    comment: str = "同意"


# Reported completion, by where a project is when it reports: financed, ended matchmaking,
# no financing need.
COMPLETIONS = (("lead_bank_designated", REPORTED, CONTRACTED, {}),
               ("financing_matchmaking", [*ENDED, ("report_completion", "ent_a")], ENDED, {}),
               ("commitment_filing", [*MATCHMAKING, ("report_completion", "ent_a")], MATCHMAKING,
                NO_FINANCING))

# Where a filed project is built: without financing, in matchmaking, with a lead bank.
UNDER_CONSTRUCTION = (("commitment_filing", MATCHMAKING, NO_FINANCING),
                      ("financing_matchmaking", MATCHMAKING, {}),
                      ("lead_bank_designated", CONTRACTED, {}))

SCENARIOS = {
    ("submit", "draft"): Scenario(
        [], "ent_a", "admin", "ent_b",
        Breach("incomplete", payload={"content": None, "equipment": []})),
    ("submit", "returned"): Scenario(
        RETURNED, "ent_a", "miit", "ent_b",
        Breach("incomplete", path=[("submit", "ent_a"), ("return", "miit"),
                                   ("edit", {"content": None})])),
    ("withdraw", "draft"): Scenario([], "ent_a", "admin", "ent_b",
                                    Breach("required", comment=None)),
    ("withdraw", "declared"): Scenario(DECLARED, "ent_a", "miit", "ent_b",
                                       Breach("required", comment=None)),
    ("withdraw", "returned"): Scenario(RETURNED, "ent_a", "miit", "ent_b",
                                       Breach("required", comment=None)),
    ("return", "declared"): Scenario(
        DECLARED, "miit", "ndrc", "miit_far", Breach("required", comment=None)),
    ("reject", "declared"): Scenario(
        DECLARED, "miit", "pboc", "miit_far", Breach("required", comment=None)),
    ("accept", "declared"): Scenario(
        DECLARED, "miit", "ndrc", "miit_far", Breach("batch closed",
                                                     payload={"batch_year": 2024})),
    ("sign_commitment", "commitment_filing"): Scenario(
        IN_FILING, "ent_a", "ndrc", "ent_b", Breach("new land", payload={"new_land": True})),
    ("return", "commitment_filing"): Scenario(
        IN_FILING, "ndrc", "miit", "ndrc_far", Breach("required", comment=None)),
    ("file", "commitment_filing"): Scenario(
        SIGNED, "ndrc", "miit", "ndrc_far", Breach("not signed", path=IN_FILING)),
    ("whitelist", "financing_matchmaking"): Scenario(
        MATCHMAKING, "miit", "pboc", "miit_far", Breach("already on list", path=WHITELISTED)),
    ("end_matchmaking", "financing_matchmaking"): Scenario(
        WHITELISTED, "ent_a", "bank1", "ent_b", Breach("already ended", path=ENDED)),
    **{("record_loan", state): Scenario(
        path, "bank1", "ent_a", "bank_far",
        Breach("above the contract", data={"amount": "2500", "drawdown_date": "2025-05-03"}))
       for state, path in (("lead_bank_designated", CONTRACTED),
                           ("completed", [*REPORTED, ("verify_completion", "miit2")]))},
    ("express_interest", "financing_matchmaking"): Scenario(
        WHITELISTED, "bank1", "ent_a", "bank_far",
        Breach("already expressed interest", path=INTERESTED)),
    **{("approve_credit", state): Scenario(
        path, "bank1", "miit", "bank_far",
        Breach("has not expressed interest", path=without_interest))
       for state, path, without_interest in (
           ("financing_matchmaking", INTERESTED, WHITELISTED),
           ("lead_bank_designated", BANK2_LEADS, OTHER_LEADS))},
    **{("sign_contract", state): Scenario(
        path, "bank1", "ent_a", "bank_far",
        Breach("exceeds the approved credit", data={**STEP_DATA["sign_contract"],
                                                    "amount": "2001"}))
       for state, path in (("financing_matchmaking", CREDITED),
                           ("lead_bank_designated", [*BANK2_LEADS, ("approve_credit", "bank1")]))},
    **{("confirm_refinancing", state): Scenario(
        path, "pboc", "miit", "pboc_far",
        Breach("no such loan", data={"loan": "00000000000000000000000000000000",
                                     "refinanced_on": "2025-06-01"}))
       for state, path in (("lead_bank_designated", LENT),
                           ("completed", [*LENT, ("report_completion", "ent_a"),
                                          ("verify_completion", "miit2")]))},
    ("report_completion", "lead_bank_designated"): Scenario(
        CONTRACTED, "ent_a", "bank1", "ent_b",
        Breach("in the future", data={"actual_total_investment": "1",
                                      "actual_equipment_investment": "1",
                                      "completed_on": "2999-01-01"})),
    ("report_completion", "financing_matchmaking"): Scenario(
        ENDED, "ent_a", "bank1", "ent_b", Breach("still open", path=WHITELISTED)),
    ("report_completion", "commitment_filing"): Scenario(
        MATCHMAKING, "ent_a", "ndrc", "ent_b",
        Breach("not been filed", path=SIGNED), payload=NO_FINANCING),
    **{("record_opinion", state): Scenario(
        path, "land", "miit", "land_far",
        Breach("needs no such procedure", payload={"new_land": False}, path=eligible),
        payload=ORDINARY)
       for state, path, eligible in (
           ("commitment_filing", IN_FILING, IN_FILING),
           ("financing_matchmaking", ORDINARY_FILED, MATCHMAKING),
           ("lead_bank_designated", [*ORDINARY_FILED, *CONTRACTED[len(MATCHMAKING):]],
            CONTRACTED))},
    **{(trigger, state): Scenario(
        [*path, BIG_CHANGE], "ndrc", "miit", "ndrc_far",
        Breach("no change filing is pending", path=path) if trigger == "approve_change"
        else Breach("required", comment=None), payload=payload)
       for trigger in ("approve_change", "refuse_change")
       for state, path, payload in (
           ("commitment_filing", MATCHMAKING, NO_FINANCING),
           ("financing_matchmaking", MATCHMAKING, {}),
           ("lead_bank_designated", CONTRACTED, {}))},
    **{("verify_completion", state): Scenario(
        path, "miit2", "miit", "miit_far", Breach("not reported", path=unreported),
        payload=payload) for state, path, unreported, payload in COMPLETIONS},
    **{(trigger, state): Scenario(
        path, "miit2", "ndrc", "miit_far", Breach("required", comment=None), payload=payload)
       for trigger in ("return_completion", "fail_completion")
       for state, path, _unreported, payload in COMPLETIONS},
    **{("report_progress", state): Scenario(
        path, "ent_a", "miit", "ent_b",
        Breach("has been filed already", path=[*path, ("report_progress", "ent_a")]),
        payload=payload) for state, path, payload in UNDER_CONSTRUCTION},
    **{("answer_problem", state): Scenario(
        [*path, ("report_progress", "ent_a")], "miit", "ndrc", "miit_far",
        Breach("required", comment=None), payload=payload)
       for state, path, payload in UNDER_CONSTRUCTION},
    **{(trigger, state): Scenario(
        [*path, WARNED], "miit", "ndrc", "miit_far", Breach("required", comment=None),
        payload=payload)
       for trigger in ("exit_library", "defer_batch")
       for state, path, payload in UNDER_CONSTRUCTION},
}

DECLARED_PAIRS = sorted({(t.trigger, s) for t in NATIONAL.transitions for s in t.sources})
PAIR_IDS = [f"{trigger}-from-{source}" for trigger, source in DECLARED_PAIRS]


def test_every_declared_transition_has_a_scenario():
    assert sorted(SCENARIOS) == DECLARED_PAIRS


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    cast.enterprise("ent_b")
    for kind in ("miit", "ndrc", "pboc", "land", "env"):
        cast.agency(kind, kind, "320500")  # 苏州市
        cast.agency(f"{kind}_far", kind, "320583")  # 昆山市: same city, another county
    cast.bank("bank1")
    cast.bank("bank2")
    cast.bank("bank_far", serves=("230000",))
    cast.agency("miit2", "miit", "320500")  # checks what "miit" accepted
    cast.admin("admin")
    close_batch(clean_app, "miit", 2024, "2024-12-31")  # Suzhou's 2024 batch has closed
    return cast


def step_data(client, project, trigger) -> dict:
    """STEP_DATA, plus the loan to refinance (read from the database)."""
    if trigger != "confirm_refinancing":
        return STEP_DATA.get(trigger, {})
    from app.extensions import db
    from app.models import Loan, Project

    with client.application.app_context():
        loan = db.session.scalar(select(Loan.public_id).join(Project, Loan.project_id == Project.id)
                                 .where(Project.public_id == uuid.UUID(project["id"])))
    return {"loan": str(loan), "refinanced_on": "2025-06-01"}


def warned(client, cast, project) -> dict:
    """The project after the daily check warned of it (three years on, never reported)."""
    with client.application.app_context():
        assert progress.check(date.today() + timedelta(days=3 * 366)).warned
    return cast.api(client, "ent_a").get(f"/projects/{project['id']}").json


def build(client, cast, path, payload):
    """A project of ent_a brought along `path` through the API; returns its latest JSON."""
    project = cast.api(client, "ent_a").post("/projects", project_payload(**payload)).json
    for trigger, actor in path:
        if (trigger, actor) == WARNED:
            project = warned(client, cast, project)
            continue
        if trigger == "edit":
            changes = actor
            project = cast.api(client, "ent_a").patch(
                f"/projects/{project['id']}", {"version": project["version"], **changes}).json
            continue
        response = cast.api(client, actor).fire(project["id"], trigger, project["version"],
                                                comment="同意",
                                                **step_data(client, project, trigger))
        assert response.status_code == 200, (trigger, response.json)
        project = response.json
    return project


def attempt(client, cast, actor, project, trigger, version=None, comment="同意", data=None):
    data = step_data(client, project, trigger) if data is None else data
    return cast.api(client, actor).fire(project["id"], trigger,
                                        project["version"] if version is None else version,
                                        comment=comment, **data)


@pytest.mark.parametrize(("trigger", "source"), DECLARED_PAIRS, ids=PAIR_IDS)
def test_transition_refusals_leave_project_untouched(client, cast, trigger, source):
    scenario = SCENARIOS[(trigger, source)]
    project = build(client, cast, scenario.path, scenario.payload)
    assert project["status"] == source
    before = counts(client.application, project["id"])

    wrong = attempt(client, cast, scenario.wrong_role, project, trigger)
    assert wrong.status_code == 403, wrong.json
    assert wrong.json["error"] == "forbidden" and wrong.json["message"]

    outsider = attempt(client, cast, scenario.outsider, project, trigger)
    assert outsider.status_code in (403, 404), outsider.json
    assert cast.api(client, scenario.outsider).get(f"/projects/{project['id']}").status_code \
        == outsider.status_code == 404

    if project["version"] == 1:  # make a stale version exist
        project = cast.api(client, "ent_a").patch(
            f"/projects/{project['id']}", {"version": 1, "address": "吴中大道1号"}).json
        before = counts(client.application, project["id"])
    stale = attempt(client, cast, scenario.actor, project, trigger,
                    version=project["version"] - 1)
    assert stale.status_code == 409, stale.json

    assert counts(client.application, project["id"]) == before

    allowed = attempt(client, cast, scenario.actor, project, trigger, comment=scenario.comment)
    assert allowed.status_code == 200, allowed.json
    assert counts(client.application, project["id"])[1:] == (before[1] + 1, before[2] + 1)


@pytest.mark.parametrize(("trigger", "source"), DECLARED_PAIRS, ids=PAIR_IDS)
def test_failing_guard_or_missing_input_is_422_with_reason(client, cast, trigger, source):
    scenario = SCENARIOS[(trigger, source)]
    breach = scenario.breach
    path = scenario.path if breach.path is None else breach.path
    project = build(client, cast, path, {**scenario.payload, **breach.payload})
    assert project["status"] == source
    before = counts(client.application, project["id"])

    refused = attempt(client, cast, scenario.actor, project, trigger, comment=breach.comment,
                      data=breach.data)
    assert refused.status_code == 422, refused.json
    assert breach.reason.lower() in refused.json["message"].lower(), refused.json
    assert counts(client.application, project["id"]) == before

    zh = cast.api(client, scenario.actor).fire(project["id"], trigger, project["version"],
                                               comment=breach.comment, lang="zh-CN",
                                               **(breach.data or STEP_DATA.get(trigger, {})))
    assert zh.status_code == 422
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.json["message"]), zh.json["message"]
