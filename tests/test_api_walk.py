"""A project walks the national path through the API alone, one audited event per step.

Under the national document no agency designates a lead bank: the first bank to sign a loan
contract becomes the project's lead lender (DOMAIN "Lead bank")."""

import hashlib
import json

import pytest

from app.models import china_today
from tests.helpers import Cast, project_payload

TODAY = china_today().isoformat()  # completion is reported after the filing (today's)


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    for kind in ("miit", "ndrc", "pboc"):
        cast.agency(kind, kind, "320500")
    cast.agency("miit_checker", "miit", "320500")  # completion is checked by another clerk
    cast.bank("bank1")
    return cast


def recompute(prev_hash: str, body: dict) -> str:
    """The documented chain formula, written independently of the application."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


STEPS = [
    # trigger, actor, data, expected status afterwards
    ("submit", "ent_a", {}, "declared"),
    ("accept", "miit", {}, "commitment_filing"),
    ("sign_commitment", "ent_a", {"commitment_accepted": True}, "commitment_filing"),
    ("file", "ndrc", {"filing_number": "苏吴行审备〔2025〕118号",
                      "project_code": "2503-320506-07-02-204526"}, "financing_matchmaking"),
    ("whitelist", "miit", {"list": "relending", "batch": "2025-1"}, "financing_matchmaking"),
    ("express_interest", "bank1", {}, "financing_matchmaking"),
    ("approve_credit", "bank1", {"amount": "2000", "approved_on": "2025-03-20"},
     "financing_matchmaking"),
    ("sign_contract", "bank1", {"amount": "2000", "signed_on": "2025-04-01",
                                "contract_number": "苏工银借〔2025〕0401号", "term_months": 36},
     "lead_bank_designated"),
    ("record_loan", "bank1", {"amount": "1500", "drawdown_date": "2025-04-10",
                              "supplier_paid_date": "2025-04-12"}, "lead_bank_designated"),
    ("report_completion", "ent_a", {"actual_total_investment": "4980.5",
                                    "actual_equipment_investment": "3990",
                                    "completed_on": TODAY}, "lead_bank_designated"),
    ("verify_completion", "miit_checker", {"checked_total_investment": "4980.5",
                                           "checked_equipment_investment": "3990",
                                           "equipment_delivered": True,
                                           "retired_disposed": True}, "completed"),
]


def test_project_walks_declaration_to_completion(client, cast):
    enterprise = cast.api(client, "ent_a")
    created = enterprise.post("/projects", project_payload())
    assert created.status_code == 201, created.json
    project = created.json
    assert project["status"] == "draft" and project["version"] == 1
    pid = project["id"]

    for trigger, actor, data, expected in STEPS:
        api = cast.api(client, actor)
        offered = {t["trigger"] for t in api.get(f"/projects/{pid}").json["available_triggers"]}
        assert trigger in offered, f"{actor} is not offered {trigger}: {offered}"
        response = api.fire(pid, trigger, project["version"], comment=f"{trigger} ok", **data)
        assert response.status_code == 200, (trigger, response.json)
        project = response.json
        assert project["status"] == expected, trigger

    assert project["lead_bank"]["name"] == "bank1银行"
    assert project["workflow"]["key"] == "national-miit-2024-53"
    assert project["filing_number"] == "苏吴行审备〔2025〕118号"
    assert project["actual_total_investment"] == "4980.5"

    events = enterprise.get(f"/projects/{pid}/events").json["items"]
    assert [e["trigger"] for e in events] == ["create"] + [s[0] for s in STEPS]
    assert project["version"] == len(events)
    roles = {"ent_a": "enterprise", "miit": "agency:miit", "ndrc": "agency:ndrc",
             "pboc": "agency:pboc", "bank1": "bank", "miit_checker": "agency:miit"}
    previous = "0" * 64
    for event, step in zip(events, [None, *STEPS], strict=True):
        assert event["prev_hash"] == previous
        assert recompute(previous, event["hashed"]) == event["hash"]
        assert event["hashed"]["trigger"] == event["trigger"]
        assert event["hashed"]["project"] == pid
        if step is not None:
            trigger, actor, _data, expected = step
            assert event["to"] == expected
            assert event["citation"].startswith("推动工业领域设备更新实施方案")  # English: no 《》
            assert "工信部联规〔2024〕53号" in event["citation"]
            assert "national-miit-2024-53.txt" not in json.dumps(event, ensure_ascii=False)
            assert event["actor"]["role"] == roles[actor]
            assert event["actor"]["organization"].startswith(actor)
            assert event["comment"] == f"{trigger} ok"
        previous = event["hash"]


def test_tampered_event_breaks_the_recomputed_chain(client, cast):
    enterprise = cast.api(client, "ent_a")
    pid = enterprise.post("/projects", project_payload()).json["id"]
    enterprise.fire(pid, "submit", 1)
    events = enterprise.get(f"/projects/{pid}/events").json["items"]
    forged = dict(events[1]["hashed"], actor="someone else")
    assert recompute(events[1]["prev_hash"], forged) != events[1]["hash"]
