"""After filing: small edits take effect; big ones need a change filing by the filing agency.
Ordinary (non-commitment) filing waits for the consulted departments' opinions."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app import create_app
from app.config import TestConfig
from app.errors import GuardFailed
from app.extensions import db
from app.models import Project, StatsStageDays
from app.reporting.rollup import differences
from app.rules.change_filing import change_filing_reasons
from app.workflow import workflows
from tests.helpers import Cast, counts, project_payload


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    cast.enterprise("ent_heir")
    for kind in ("miit", "ndrc", "land", "env"):
        cast.agency(kind, kind, "320500")
    return cast


def filed_project(client, cast, **overrides):
    ent = cast.api(client, "ent_a")
    p = ent.post("/projects", project_payload(project_code="2503-320506-07-02-000009",
                                              financing_need="0", **overrides)).json
    p = ent.fire(p["id"], "submit", p["version"]).json
    p = cast.api(client, "miit").fire(p["id"], "accept", p["version"]).json
    p = ent.fire(p["id"], "sign_commitment", p["version"], commitment_accepted=True).json
    p = cast.api(client, "ndrc").fire(p["id"], "file", p["version"], filing_number="苏备1号").json
    assert p["status"] == "commitment_filing" and p["filing_number"] == "苏备1号"
    return p


def test_small_edit_after_filing_takes_effect_and_is_recorded(client, cast):
    p = filed_project(client, cast)
    edited = cast.api(client, "ent_a").patch(f"/projects/{p['id']}", {
        "version": p["version"], "address": "吴中经济开发区1号", "total_investment": "5900"})
    assert edited.status_code == 200, edited.json
    assert edited.json["address"] == "吴中经济开发区1号"
    assert edited.json["total_investment"] == "5900"  # +18%: below the 20% line
    assert edited.json["pending_change"] is None
    events = cast.api(client, "ent_a").get(f"/projects/{p['id']}/events").json["items"]
    assert events[-1]["trigger"] == "edit"


def test_big_investment_change_waits_for_the_filing_agency(client, cast):
    p = filed_project(client, cast)
    response = cast.api(client, "ent_a").patch(f"/projects/{p['id']}", {
        "version": p["version"], "total_investment": "6500"})  # +30%
    assert response.status_code == 200, response.json
    p = response.json
    assert p["total_investment"] == "5000"  # not yet in effect
    assert "30.0%" in p["pending_change"]["reasons"][0]
    # the agencies' side (the enterprise owes its monthly progress report beside it)
    agencies = [d for d in p["deadlines"] if d["role"].startswith("agency:")]
    assert [d["trigger"] for d in agencies] == ["approve_change"]
    assert agencies[0]["role"] == "agency:ndrc"

    again = cast.api(client, "ent_a").patch(f"/projects/{p['id']}", {
        "version": p["version"], "name": "改名"})
    assert again.status_code == 409  # one change filing at a time

    before = counts(client.application, p["id"])
    assert cast.api(client, "miit").fire(p["id"], "approve_change", p["version"],
                                         filing_number="苏备1号-变1").status_code == 403
    assert counts(client.application, p["id"]) == before
    approved = cast.api(client, "ndrc").fire(p["id"], "approve_change", p["version"],
                                             filing_number="苏备1号-变1")
    assert approved.status_code == 200, approved.json
    assert approved.json["total_investment"] == "6500"
    assert approved.json["filing_number"] == "苏备1号-变1"
    assert approved.json["pending_change"] is None and [d for d in approved.json["deadlines"]
                                                     if d["role"].startswith("agency:")] == []


def test_refused_change_leaves_the_project_as_filed(client, cast):
    p = filed_project(client, cast)
    p = cast.api(client, "ent_a").patch(f"/projects/{p['id']}", {
        "version": p["version"], "name": "新名称项目", "jurisdiction": "320507"}).json
    assert len(p["pending_change"]["reasons"]) == 2
    refused = cast.api(client, "ndrc").fire(p["id"], "refuse_change", p["version"])
    assert refused.status_code == 422 and "comment" in refused.json["fields"]
    refused = cast.api(client, "ndrc").fire(p["id"], "refuse_change", p["version"],
                                            comment="变更后选址需重新办理用地手续")
    assert refused.status_code == 200
    assert refused.json["name"] == "数控机床更新改造项目" and refused.json["jurisdiction"] == "320506"


def test_project_changes_hands_only_by_change_filing(client, cast):
    p = filed_project(client, cast)
    heir_code = cast.api(client, "ent_heir").get("/projects").json  # nothing yet
    assert heir_code["items"] == []
    with client.application.app_context():
        code = cast.user("ent_heir").organization.credit_code
    p = cast.api(client, "ent_a").patch(f"/projects/{p['id']}", {
        "version": p["version"], "enterprise_credit_code": code}).json
    assert "legal entity" in p["pending_change"]["reasons"][0]
    cast.api(client, "ndrc").fire(p["id"], "approve_change", p["version"], filing_number="苏备2号")
    assert cast.api(client, "ent_a").get(f"/projects/{p['id']}").status_code == 404
    assert cast.api(client, "ent_heir").get(f"/projects/{p['id']}").json["filing_number"] == "苏备2号"


def test_project_code_is_fixed_after_filing(client, cast):
    p = filed_project(client, cast)
    response = cast.api(client, "ent_a").patch(f"/projects/{p['id']}", {
        "version": p["version"], "project_code": "2503-320506-07-02-000010"})
    assert response.status_code == 422 and "project_code" in response.json["fields"]


def test_an_ordinary_filing_is_registered_while_its_procedures_run_beside_it(client, cast):
    """A filing is registered on receipt (DOMAIN "Filing"): a project adding land is filed at
    once; land and energy review (the national 三(四)'s 用地、用能) are tracked with their own
    clocks, owed by their departments, and do not hold the filing up."""
    ent = cast.api(client, "ent_a")
    p = ent.post("/projects", project_payload(new_land=True,
                                              project_code="2503-320506-07-02-000011")).json
    p = ent.fire(p["id"], "submit", 1).json
    p = cast.api(client, "miit").fire(p["id"], "accept", p["version"]).json
    assert ent.fire(p["id"], "sign_commitment", p["version"],
                    commitment_accepted=True).status_code == 422  # adds land: no commitment
    owed = {(d["role"], d["trigger"]) for d in ent.get(f"/projects/{p['id']}").json["deadlines"]}
    assert owed == {("agency:land", "record_opinion"), ("agency:ndrc", "record_opinion"),
                    ("agency:ndrc", "file")}
    assert "agency:env" not in {role for role, _t in owed}  # the national text names none

    filed = cast.api(client, "ndrc").fire(p["id"], "file", p["version"], filing_number="苏备1号")
    assert filed.status_code == 200 and filed.json["status"] == "financing_matchmaking"
    p = filed.json
    kept = {d["trigger"]: d for d in p["deadlines"]
            if d["role"].startswith("agency:") and d["role"] != "agency:miit"}
    assert set(kept) == {"record_opinion"}  # both procedures still owed, clocks running
    assert {d["role"] for d in p["deadlines"] if d["trigger"] == "record_opinion"} == {
        "agency:land", "agency:ndrc"}

    p = cast.api(client, "land").fire(p["id"], "record_opinion", p["version"], opinion="approve",
                                      reference="苏自然资函〔2025〕3号",
                                      decided_on="2025-03-01").json
    assert [d["role"] for d in p["deadlines"] if d["trigger"] == "record_opinion"] == [
        "agency:ndrc"]
    [land] = [o for o in p["procedures"] if o["role"] == "agency:land"]
    assert (land["procedure"], land["reference"], land["decided_on"]) == (
        "land", "苏自然资函〔2025〕3号", "2025-03-01")
    twice = cast.api(client, "land").fire(p["id"], "record_opinion", p["version"],
                                          opinion="approve", reference="又一号")
    assert twice.status_code == 422 and "already recorded" in twice.json["message"]


def test_a_small_energy_user_needs_no_energy_review(client, cast):
    """Below 1,000 tce and 5 million kWh a year no energy review is needed (practice)."""
    ent = cast.api(client, "ent_a")
    p = ent.post("/projects", project_payload(new_land=True, energy_tce=600,
                                              electricity_kwh=3_000_000,
                                              project_code="2503-320506-07-02-000012")).json
    p = ent.fire(p["id"], "submit", 1).json
    p = cast.api(client, "miit").fire(p["id"], "accept", p["version"]).json
    assert {(d["role"], d["trigger"]) for d in p["deadlines"]} == {
        ("agency:land", "record_opinion"), ("agency:ndrc", "file")}
    refused = cast.api(client, "ndrc").fire(p["id"], "record_opinion", p["version"],
                                            opinion="approve", reference="x")
    assert refused.status_code == 422 and "needs no such procedure" in refused.json["message"]


@pytest.fixture(scope="module")
def rule_ctx():
    app = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://"}))
    with app.app_context():
        yield


@pytest.mark.parametrize(("new_total", "needs"), [
    ("5999", False), ("6000", True), ("4001", False), ("4000", True), ("5000", False)])
def test_change_filing_line_is_twenty_percent(rule_ctx, new_total, needs):
    project = SimpleNamespace(name="项目", jurisdiction_code="320506",
                              total_investment=Decimal("5000"),
                              enterprise=SimpleNamespace(credit_code="X"))
    reasons = change_filing_reasons(project, {"total_investment": Decimal(new_total)},
                                    date(2025, 1, 1))
    assert bool(reasons) is needs


def test_a_project_moved_by_change_filing_goes_on_under_the_new_places_document(client, cast):
    """Suzhou (national plan) → Harbin (heilongjiang's): the project keeps its stage, is
    frozen on heilongjiang's definition from then on, and the stays it spent in Suzhou still
    count for Suzhou in the statistics (which agree with a fresh recount)."""
    p = filed_project(client, cast)
    p = cast.api(client, "ent_a").patch(f"/projects/{p['id']}", {
        "version": p["version"], "jurisdiction": "230102"}).json
    assert p["pending_change"] is not None and p["jurisdiction"] == "320506"
    moved = cast.api(client, "ndrc").fire(p["id"], "approve_change", p["version"],
                                          filing_number="苏备1号-变1")
    assert moved.status_code == 200, moved.json
    assert moved.json["jurisdiction"] == "230102"  # and out of Suzhou's sight from now on
    assert "outside your jurisdiction" in moved.json["message"]
    assert cast.api(client, "ndrc").get(f"/projects/{p['id']}").status_code == 404
    p = cast.api(client, "ent_a").get(f"/projects/{p['id']}").json
    assert p["status"] == "commitment_filing"
    assert p["workflow"]["key"] == "heilongjiang-2024-67"
    events = cast.api(client, "ent_a").get(f"/projects/{p['id']}/events").json["items"]
    assert events[-1]["data"]["workflow_to"].startswith("heilongjiang-2024-67")
    with client.application.app_context():
        assert differences() == []
        places = set(db.session.scalars(select(StatsStageDays.jurisdiction_code)
                                        .where(StatsStageDays.stays > 0)))
        assert places == {"320506"}  # declared, accepted there


def test_a_move_to_a_place_whose_document_has_lapsed_is_refused(client, cast):
    """Luoyang's plan runs to 2027-12-31 (末段): on 2028-01-05 a project cannot move there."""
    p = filed_project(client, cast)
    p = cast.api(client, "ent_a").patch(f"/projects/{p['id']}", {
        "version": p["version"], "jurisdiction": "410302"}).json
    before = counts(client.application, p["id"])
    with client.application.app_context():
        project = db.session.scalar(select(Project).where(Project.jurisdiction_code == "320506"))
        with pytest.raises(GuardFailed) as refused:
            workflows().fire(project, "approve_change", cast.user("ndrc"),
                             version=p["version"], data={"filing_number": "苏备1号-变1"},
                             today=date(2028, 1, 5))
        assert "2027年12月31日" in str(refused.value.message)
    assert counts(client.application, p["id"]) == before
