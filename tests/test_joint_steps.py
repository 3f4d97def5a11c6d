"""Joint steps: heilongjiang's lead bank is designated by 人行黑龙江分行 with 国家金融监督管理总局
黑龙江监管局 (会签, `all_of`); a definition may instead let the first of several agencies carry a
step (或签, `any_of`). Each signature is its own audited step; the queue, the project page and
the API answer say who has signed and who is awaited."""

import re
import shutil
from pathlib import Path

import pytest

from app import create_app
from app.config import TestConfig
from app.workflow.definitions import DefinitionError, parse_text
from tests.helpers import whitelist_cast, whitelisted_projects
from tests.web import signed_in

SHIPPED = Path(__file__).parent.parent / "workflows"
HLJ = SHIPPED / "heilongjiang-2024-67.toml"


def queue(cast, client, who) -> list[str]:
    return [item["trigger"] for item in cast.api(client, who).get("/queue").json["items"]]


@pytest.fixture
def claimed(clean_app, client):
    """A whitelisted Harbin project a bank has claimed as its lead bank."""
    cast = whitelist_cast(clean_app, 2, county="230110")
    [(pid, version)] = whitelisted_projects(clean_app, cast, 1)
    bank = cast.api(client, "bank00")
    version = bank.fire(pid, "express_interest", version).json["version"]
    project = bank.fire(pid, "claim_lead_bank", version).json
    cast.pid = pid
    return cast, project


def signers(project) -> dict:
    [joint] = project["joint_steps"]
    assert (joint["trigger"], joint["mode"]) == ("designate_lead_bank", "all_of")
    return {s["role"]: s["signed"] for s in joint["signers"]}


def test_lead_bank_needs_both_agencies_each_in_its_own_queue(clean_app, client, claimed):
    cast, project = claimed
    pid = project["id"]
    assert "designate_lead_bank" in queue(cast, client, "pboc")
    assert "designate_lead_bank" in queue(cast, client, "finance")
    assert signers(cast.api(client, "ent").get(f"/projects/{pid}").json) == {
        "agency:pboc": False, "agency:finance": False}

    signed = cast.api(client, "pboc").fire(pid, "designate_lead_bank", project["version"])
    assert signed.status_code == 200, signed.json
    project = signed.json
    # the first signature decides nothing yet: no lead bank, the stage unchanged
    assert project["status"] == "financing_matchmaking" and project["lead_bank"] is None
    assert signers(project) == {"agency:pboc": True, "agency:finance": False}
    assert "designate_lead_bank" not in queue(cast, client, "pboc")
    assert "designate_lead_bank" in queue(cast, client, "finance")
    waiting = {w["role"] for w in project["waiting_for"] if w["trigger"] == "designate_lead_bank"}
    assert waiting == {"agency:finance"}

    again = cast.api(client, "pboc").fire(pid, "designate_lead_bank", project["version"])
    assert again.status_code == 422 and "signed this step already" in again.json["message"]
    offered = {t["trigger"]: t for t in cast.api(client, "pboc").get(
        f"/projects/{pid}").json["available_triggers"]}
    assert offered["designate_lead_bank"]["ready"] is False

    page = cast.api(client, "finance").get(f"/projects/{pid}").json
    done = cast.api(client, "finance").fire(pid, "designate_lead_bank", page["version"])
    assert done.status_code == 200, done.json
    assert done.json["status"] == "lead_bank_designated"
    assert done.json["lead_bank"]["name"] == "bank00银行"
    assert done.json["joint_steps"] == []
    assert "designate_lead_bank" not in queue(cast, client, "finance")

    events = [e for e in cast.api(client, "ent").get(f"/projects/{pid}/events").json["items"]
              if e["trigger"] == "designate_lead_bank"]
    assert [(e["from"], e["to"]) for e in events] == [
        ("financing_matchmaking", "financing_matchmaking"),
        ("financing_matchmaking", "lead_bank_designated")]
    assert [e["data"]["joint"]["awaiting"] for e in events] == [["agency:finance"], []]
    assert events[-1]["data"]["joint"]["signed"] == ["agency:pboc", "agency:finance"]
    assert events[-1]["data"]["bank"] == "bank00银行" and "bank" not in events[0]["data"]


def test_one_objection_returns_the_claim_with_its_reason_and_signatures_lapse(
        clean_app, client, claimed):
    cast, project = claimed
    pid = project["id"]
    v = cast.api(client, "pboc").fire(pid, "designate_lead_bank", project["version"]).json[
        "version"]
    refused = cast.api(client, "finance").fire(pid, "decline_claim", v)
    assert refused.status_code == 422  # the objection states its reason
    declined = cast.api(client, "finance").fire(pid, "decline_claim", v,
                                                comment="授信条件不符合主办行要求")
    assert declined.status_code == 200, declined.json
    project = declined.json
    assert project["status"] == "financing_matchmaking" and project["lead_bank"] is None
    assert project["joint_steps"] == []
    assert "designate_lead_bank" not in queue(cast, client, "pboc") + queue(cast, client,
                                                                           "finance")
    claims = cast.api(client, "bank00").get(f"/projects/{pid}/financing").json["claims"]
    assert [c["status"] for c in claims] == ["declined"]
    events = cast.api(client, "bank00").get(f"/projects/{pid}/events").json["items"]
    assert events[-1]["comment"] == "授信条件不符合主办行要求"

    # the bank claims again: both agencies owe the designation afresh
    again = cast.api(client, "bank01").fire(pid, "express_interest", project["version"]).json
    again = cast.api(client, "bank01").fire(pid, "claim_lead_bank", again["version"]).json
    assert signers(again) == {"agency:pboc": False, "agency:finance": False}
    assert "designate_lead_bank" in queue(cast, client, "pboc")
    assert "designate_lead_bank" in queue(cast, client, "finance")


def test_only_the_named_agencies_in_their_jurisdiction_sign(clean_app, client, claimed):
    cast, project = claimed
    cast.agency("finance_elsewhere", "finance", "230200")  # 齐齐哈尔: another city
    cast.agency("finance_shanxi", "finance", "140000")
    cast.agency("treasury", "treasury", "230000")
    for who, status in (("miit", 403), ("treasury", 403), ("ndrc", 403), ("bank00", 403),
                        ("finance_elsewhere", 404), ("finance_shanxi", 404)):
        response = cast.api(client, who).fire(project["id"], "designate_lead_bank",
                                              project["version"])
        assert response.status_code == status, (who, response.json)
        assert "designate_lead_bank" not in queue(cast, client, who)
    assert signers(cast.api(client, "ent").get(f"/projects/{project['id']}").json) == {
        "agency:pboc": False, "agency:finance": False}


def test_project_page_shows_who_signed_and_who_is_awaited(clean_app, client, claimed):
    cast, project = claimed
    cast.api(client, "pboc").fire(project["id"], "designate_lead_bank", project["version"])
    page = signed_in(clean_app, "finance", lang="zh").get(f"/projects/{project['id']}")
    section = page.get_data(as_text=True).split('id="joint"', 1)[1]
    assert 'data-role="agency:pboc" data-signed="yes"' in section
    assert 'data-role="agency:finance" data-signed="no"' in section


# -- 或签: the first approval carries (a revised copy of the definition) ------------------


@pytest.fixture
def either_app(clean_app, tmp_path):
    """The same database, served by definitions where heilongjiang's designation is 或签."""
    shutil.copytree(SHIPPED, tmp_path / "workflows")
    path = tmp_path / "workflows" / HLJ.name
    text = path.read_text(encoding="utf-8")
    assert text.count('all_of = ["agency:pboc", "agency:finance"]') == 2
    path.write_text(text.replace('all_of = ["agency:pboc", "agency:finance"]',
                                 'any_of = ["agency:pboc", "agency:finance"]'), encoding="utf-8")
    return create_app(type("Either", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": clean_app.config["SQLALCHEMY_DATABASE_URI"],
        "WORKFLOWS_DIR": tmp_path / "workflows"}))


def test_any_of_the_first_approval_carries(clean_app, either_app):
    client = either_app.test_client()
    cast = whitelist_cast(either_app, 1, county="230110")
    [(pid, version)] = whitelisted_projects(either_app, cast, 1)
    bank = cast.api(client, "bank00")
    version = bank.fire(pid, "express_interest", version).json["version"]
    project = bank.fire(pid, "claim_lead_bank", version).json
    [joint] = project["joint_steps"]
    assert joint["mode"] == "any_of"
    assert "designate_lead_bank" in queue(cast, client, "pboc")
    assert "designate_lead_bank" in queue(cast, client, "finance")

    done = cast.api(client, "finance").fire(pid, "designate_lead_bank", project["version"])
    assert done.status_code == 200, done.json
    assert done.json["status"] == "lead_bank_designated"
    assert done.json["lead_bank"]["name"] == "bank00银行"
    late = cast.api(client, "pboc").fire(pid, "designate_lead_bank", done.json["version"])
    assert late.status_code == 409
    assert "designate_lead_bank" not in queue(cast, client, "pboc")
    event = cast.api(client, "ent").get(f"/projects/{pid}/events").json["items"][-1]
    assert event["data"]["joint"] == {"mode": "any_of", "roles": ["agency:pboc", "agency:finance"],
                                      "signed": ["agency:finance"], "awaiting": []}


# -- what `workflows check` refuses ----------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "problem"), [
    ('all_of = ["agency:pboc", "agency:finance"]', 'all_of = ["agency:pboc", "agency:env"]',
     "has no 'designate_lead_bank' transition"),
    ('all_of = ["agency:pboc", "agency:finance"]', 'any_of = ["agency:pboc", "agency:finance"]',
     "name different any_of roles"),
    ('all_of = ["agency:pboc", "agency:finance"]',
     'all_of = ["agency:pboc", "agency:finance"]\nany_of = ["agency:pboc", "agency:finance"]',
     "all_of or any_of, not both"),
    ('all_of = ["agency:pboc", "agency:finance"]', 'all_of = ["agency:pboc", "bank"]',
     "not an agency role"),
    ('all_of = ["agency:pboc", "agency:finance"]', 'all_of = ["agency:pboc"]',
     "names at least two roles"),
    ('all_of = ["agency:treasury", "agency:miit"]', 'any_of = ["agency:treasury", "agency:miit"]',
     "which knows all_of only"),
])
def test_workflows_check_refuses_joint_steps_it_cannot_run(old, new, problem):
    text = HLJ.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(DefinitionError, match=re.escape(problem)):
        parse_text(text.replace(old, new, 1), HLJ)


def test_a_joint_step_must_be_one_somebody_owes():
    text = HLJ.read_text(encoding="utf-8")
    decline = 'trigger = "decline_claim"\nsource = "financing_matchmaking"\nrole = "agency:pboc"\n'
    assert decline in text
    with pytest.raises(DefinitionError, match="a joint step is one somebody owes"):
        parse_text(text.replace(decline, decline + 'all_of = ["agency:pboc", "agency:finance"]\n'),
                   HLJ)


def test_heilongjiang_cites_both_agencies_verbatim():
    definition = parse_text(HLJ.read_text(encoding="utf-8"), HLJ)
    specs = definition.transitions_for("designate_lead_bank")
    assert {(s.role, s.all_of) for s in specs} == {
        ("agency:pboc", ("agency:pboc", "agency:finance")),
        ("agency:finance", ("agency:pboc", "agency:finance"))}
    seed = (Path(__file__).parent.parent.parent / "shared" / "seeds" / HLJ.name).with_suffix(
        ".txt")
    if seed.exists():
        body = seed.read_text(encoding="utf-8")
        for piece in specs[0].quote.split("……"):
            assert piece in body
    assert "国家金融监督管理总局黑龙江监管局" in specs[0].quote


def test_workflow_page_names_the_cosigning_agencies(clean_app, claimed):
    page = signed_in(clean_app, "finance", lang="zh").get("/workflows/heilongjiang-2024-67")
    assert page.status_code == 200
    row = page.get_data(as_text=True).split('data-trigger="designate_lead_bank"', 1)[1]
    assert "会签" in row.split("</tr>", 1)[0]
