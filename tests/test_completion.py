"""Completion acceptance as the API sees it: what verification checks, and its three outcomes
(verified, returned to the enterprise, failed)."""

import pytest

from app.models.base import china_today
from tests.helpers import Cast, counts, project_payload

REPORT = {"actual_total_investment": "4900", "actual_equipment_investment": "3900",
          "completed_on": china_today().isoformat()}
CHECKED = {"checked_total_investment": "4880", "checked_equipment_investment": "3890",
           "equipment_delivered": True, "retired_disposed": True}


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent")
    for name, kind in (("miit", "miit"), ("ndrc", "ndrc"), ("checker", "miit")):
        cast.agency(name, kind, "320500")
    return cast


def reported(client, cast) -> dict:
    ent = cast.api(client, "ent")
    p = ent.post("/projects", project_payload(financing_need="0",
                                              project_code="2503-320506-07-02-000031")).json
    p = ent.fire(p["id"], "submit", p["version"]).json
    p = cast.api(client, "miit").fire(p["id"], "accept", p["version"]).json
    p = ent.fire(p["id"], "sign_commitment", p["version"], commitment_accepted=True).json
    p = cast.api(client, "ndrc").fire(p["id"], "file", p["version"], filing_number="苏备7号").json
    p = ent.fire(p["id"], "report_completion", p["version"], **REPORT)
    assert p.status_code == 200, p.json
    return p.json


def test_verification_names_each_shortfall_and_writes_nothing(client, cast):
    p = reported(client, cast)
    before = counts(client.application, p["id"])
    checker = cast.api(client, "checker")
    refused = checker.fire(p["id"], "verify_completion", p["version"],
                           **{**CHECKED, "equipment_delivered": None, "energy_grades": {"1": 3}})
    assert refused.status_code == 422
    message = refused.json["message"]
    assert "not all been delivered" in message
    assert "grade 3" in message and "grade 2 or better" in message
    assert counts(client.application, p["id"]) == before

    verified = checker.fire(p["id"], "verify_completion", p["version"], **CHECKED)
    assert verified.status_code == 200, verified.json
    assert verified.json["status"] == "completed"
    assert verified.json["actual_total_investment"] == "4880"  # as checked, not as reported
    events = cast.api(client, "ent").get(f"/projects/{p['id']}/events").json["items"]
    assert events[-1]["data"]["reported_total_investment"] == "4900"


def test_returned_completion_is_reported_again_then_failed(client, cast):
    p = reported(client, cast)
    checker, ent = cast.api(client, "checker"), cast.api(client, "ent")
    returned = checker.fire(p["id"], "return_completion", p["version"],
                            comment="请补充设备到货验收单。")
    assert returned.status_code == 200, returned.json
    p = returned.json
    assert p["status"] == "commitment_filing"
    assert checker.fire(p["id"], "verify_completion", p["version"],
                        **CHECKED).status_code == 422  # nothing reported to verify now
    p = ent.fire(p["id"], "report_completion", p["version"], **REPORT).json

    assert checker.fire(p["id"], "fail_completion", p["version"]).status_code == 422  # why?
    failed = checker.fire(p["id"], "fail_completion", p["version"],
                          comment="新购设备能效三级，未达到二级要求。")
    assert failed.status_code == 200, failed.json
    p = failed.json
    assert p["status"] == "failed"
    assert p["available_triggers"] == []
    again = ent.fire(p["id"], "report_completion", p["version"], **REPORT)
    assert again.status_code == 409, again.json  # a failed project is closed
