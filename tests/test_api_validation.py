"""Bad input gets a 4xx JSON error naming the field; nothing is written; never a 500."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Organization, Project, WorkflowEvent
from tests.helpers import Cast, project_payload


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    cast.admin("admin")
    return cast


def rows(app):
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Project, WorkflowEvent, Organization))


BAD_PROJECTS = {
    "wrong type for quantity": ({"equipment": [{"kind": "new", "name": "机床", "quantity": "two"}]},
                                "equipment.0.quantity"),
    "boolean as string": ({"new_land": "yes"}, "new_land"),
    "number as amount with text": ({"total_investment": "五千"}, "total_investment"),
    "negative amount": ({"equipment_investment": "-1"}, "equipment_investment"),
    "absurd amount": ({"total_investment": "1000000000000"}, "total_investment"),
    "too many decimals": ({"total_investment": "5000.12345"}, "total_investment"),
    "over-long name": ({"name": "项" * 201}, "name"),
    "empty name": ({"name": "   "}, "name"),
    "unknown task": ({"task": "world_domination"}, "task"),
    "bad date": ({"planned_start": "2025-02-30"}, "planned_start"),
    "end before start": ({"planned_start": "2025-06-01", "planned_end": "2025-01-01"},
                         "planned_end"),
    "part exceeds total": ({"equipment_investment": "6000"}, "equipment_investment"),
    "unknown county": ({"jurisdiction": "999999"}, "jurisdiction"),
    "malformed project code": ({"project_code": "2403-3706-07-02-204526"}, "project_code"),
    "project code of another region": ({"project_code": "2403-110101-07-02-204526"},
                                       "project_code"),
    "unknown field": ({"secret_flag": True}, "secret_flag"),
    "energy grade out of range": (
        {"equipment": [{"kind": "new", "name": "电机", "quantity": 1, "energy_grade": 5}]},
        "equipment.0.energy_grade"),
}


@pytest.mark.parametrize("case", sorted(BAD_PROJECTS))
def test_bad_project_is_refused_naming_the_field(client, cast, case):
    overrides, field = BAD_PROJECTS[case]
    before = rows(client.application)
    response = cast.api(client, "ent_a").post("/projects", project_payload(**overrides))
    assert response.status_code == 422, response.json
    assert response.json["error"] == "invalid"
    assert field in response.json["fields"], response.json
    assert rows(client.application) == before


def test_malformed_json_is_400(client, cast):
    before = rows(client.application)
    response = cast.api(client, "ent_a").post("/projects", raw=b'{"name": "x",')
    assert response.status_code == 400
    assert response.json["fields"] == {"body": "The request body is not valid JSON."}
    assert rows(client.application) == before


def test_non_object_body_is_refused(client, cast):
    response = cast.api(client, "ent_a").post("/projects", raw=b'["a list"]')
    assert response.status_code in (400, 422) and response.is_json


@pytest.mark.parametrize("code", ["91320506MA1P4K7LX", "91320506MA1P4K7LXA", "x" * 40, ""])
def test_bad_credit_code_is_refused(client, cast, code):
    before = rows(client.application)
    response = cast.api(client, "admin").post("/organizations", {
        "kind": "enterprise", "name": "某某机械有限公司", "jurisdiction": "320506",
        "credit_code": code})
    assert response.status_code == 422, response.json
    assert "credit_code" in response.json["fields"]
    assert rows(client.application) == before


def test_valid_credit_code_registers_enterprise(client, cast):
    response = cast.api(client, "admin").post("/organizations", {
        "kind": "enterprise", "name": "某某机械有限公司", "jurisdiction": "320506",
        "credit_code": "91320506MA1P4K7LXK"})
    assert response.status_code == 201, response.json
    assert response.json["credit_code"] == "91320506MA1P4K7LXK"


def test_bank_serving_an_unknown_place_is_refused(client, cast):
    before = rows(client.application)
    response = cast.api(client, "admin").post("/organizations", {
        "kind": "bank", "name": "某某银行苏州分行", "jurisdiction": "320500",
        "serves": ["320500", "937191", "320500"]})
    assert response.status_code == 422, response.json
    assert "serves" in response.json["fields"]
    assert rows(client.application) == before


def test_bank_serving_a_place_twice_serves_it_once(client, cast):
    response = cast.api(client, "admin").post("/organizations", {
        "kind": "bank", "name": "某某银行苏州分行", "jurisdiction": "320500",
        "serves": ["320500", "320500"]})
    assert response.status_code == 201, response.json
    assert response.json["serves"] == ["320500"]


@pytest.mark.parametrize(("body", "field"), [
    ({"trigger": "submit"}, "version"),
    ({"trigger": "submit", "version": "1"}, "version"),
    ({"trigger": "submit", "version": 0}, "version"),
    ({"trigger": "", "version": 1}, "trigger"),
    ({"trigger": "teleport", "version": 1}, "trigger"),
    ({"trigger": "submit", "version": 1, "data": "nope"}, "data"),
    ({"trigger": "submit", "version": 1, "data": {"unexpected": 1}}, "data.unexpected"),
    ({"trigger": "submit", "version": 1, "comment": "x" * 2001}, "comment"),
])
def test_bad_transition_request_names_the_field(client, cast, body, field):
    api = cast.api(client, "ent_a")
    project = api.post("/projects", project_payload()).json
    before = rows(client.application)
    response = api.post(f"/projects/{project['id']}/transitions", body)
    assert response.status_code == 422, response.json
    assert field in response.json["fields"], response.json
    assert rows(client.application) == before
    assert api.get(f"/projects/{project['id']}").json["status"] == "draft"


@pytest.mark.parametrize("path", ["/projects/not-a-uuid", "/projects/00000000-0000-0000-0000-000000000000",
                                  "/no-such-route"])
def test_unknown_things_are_json_404(client, cast, path):
    response = cast.api(client, "ent_a").get(path)
    assert response.status_code == 404 and response.json["error"] == "not_found"


def test_missing_or_bad_token_is_401(client, cast):
    assert client.get("/api/v1/projects").status_code == 401
    bad = client.get("/api/v1/projects", headers={"Authorization": "Bearer jg_forged"})
    assert bad.status_code == 401 and bad.json["error"] == "unauthorized"


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "abc"}, {"year": "soon"},
                                   {"cursor": "!!!"}, {"status": "flying"},
                                   {"jurisdiction": "123456"}])
def test_bad_list_parameters_are_422(client, cast, query):
    response = cast.api(client, "ent_a").get("/projects", **query)
    assert response.status_code == 422, response.json
    assert set(response.json["fields"]) & set(query), response.json


def test_a_nul_character_in_the_query_is_refused_naming_the_field(client, cast):
    response = cast.api(client, "ent_a").get("/projects", q="泵\x00站")
    assert response.status_code == 422, response.json
    assert "q" in response.json["fields"]


def test_a_nul_character_in_a_json_body_is_refused_and_nothing_is_written(client, cast):
    api = cast.api(client, "ent_a")
    before = rows(client.application)
    response = api.post("/projects", project_payload(name="新项目\x00"))
    assert response.status_code == 422, response.json
    assert "body" in response.json["fields"]
    assert rows(client.application) == before
    # a backslash followed by "u0000" is text like any other
    spelt = api.post("/projects", project_payload(name="新项目\\u0000"))
    assert spelt.status_code == 201, spelt.json
    assert spelt.json["name"] == "新项目\\u0000"
