"""The API document tells the truth (issue 17, finding 13): what it allows the server
accepts, what it forbids the server refuses (422 naming the parameter), and a method it does
not declare is answered 405 with `Allow`. The whole document is checked by Schemathesis's own
CLI in tests/api_check.sh (`make api-check`); these are the probe's findings, in-process."""

import pytest

from app.api.openapi import openapi_document
from app.workflow import TRIGGERS
from tests.helpers import Cast, project_payload

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    cast.agency("miit", "miit", "320500")
    cast.bank("bank_a")
    return cast


@pytest.fixture
def document(clean_app):
    with clean_app.app_context():
        return openapi_document()


def _concrete(path: str) -> str:
    return (path.replace("{project_id}", "7b7c2d4e-0000-4000-8000-000000000000")
            .replace("{attachment_id}", "7b7c2d4e-0000-4000-8000-000000000001")
            .replace("{key}", "national-miit-2024-53"))


def test_undeclared_methods_answer_405_with_allow(client, cast, document):
    for path, operations in document["paths"].items():
        declared = {m for m in operations if m in HTTP_METHODS}
        for method in sorted({"TRACE", *(m.upper() for m in HTTP_METHODS - declared)}):
            response = client.open(f"/api/v1{_concrete(path)}", method=method,
                                   headers={"Authorization": f"Bearer {cast.tokens['ent_a']}"})
            assert response.status_code == 405, (method, path, response.status_code)
            allowed = {m.strip().lower() for m in response.headers["Allow"].split(",")}
            assert allowed - {"head", "options"} == declared, (method, path, allowed)
            assert response.json["error"] == "method_not_allowed"


def _parameters(document, path) -> dict:
    return {p["name"]: p["schema"] for p in document["paths"][path]["get"]["parameters"]}


@pytest.mark.parametrize(("path", "name"), [("/projects", "q"), ("/projects", "industry"),
                                            ("/market", "industry"), ("/queue", "step")])
def test_a_query_longer_than_its_max_length_is_refused(client, cast, document, path, name):
    longest = _parameters(document, path)[name]["maxLength"]
    api = cast.api(client, "ent_a" if path != "/market" else "bank_a")
    assert api.get(path, **{name: "项" * longest}).status_code == 200
    response = api.get(path, **{name: "项" * (longest + 1)})
    assert response.status_code == 422, (path, name, response.status_code)
    assert name in response.json["fields"]


def test_the_probe_q_of_201_characters_is_refused(client, cast):
    response = cast.api(client, "ent_a").get("/projects", q="0" * 201)
    assert response.status_code == 422 and "q" in response.json["fields"]


def test_trigger_names_are_the_vocabulary(client, cast, document):
    schema = document["components"]["schemas"]["TransitionRequest"]["properties"]["trigger"]
    assert sorted(schema["enum"]) == sorted(TRIGGERS)
    api = cast.api(client, "ent_a")
    project = api.post("/projects", project_payload()).json
    refused = api.fire(project["id"], "teleport", project["version"])
    assert refused.status_code == 422 and "trigger" in refused.json["fields"]
    for trigger in schema["enum"]:  # a name the document lists is never an "unknown step"
        response = api.fire(project["id"], trigger, project["version"])
        assert "trigger" not in response.json.get("fields", {}), (trigger, response.json)


def test_jurisdiction_codes_are_those_the_server_knows(client, cast, document):
    body = document["components"]["schemas"]["ProjectCreate"]["properties"]["jurisdiction"]
    counties = body["enum"]
    assert "320506" in counties and "320500" not in counties  # a county, not a city
    api = cast.api(client, "ent_a")
    for code in counties[:5] + counties[-5:]:
        response = api.post("/projects", project_payload(jurisdiction=code, project_code=None))
        assert "jurisdiction" not in response.json.get("fields", {}), (code, response.json)
    assert api.post("/projects", project_payload(jurisdiction="999999")).status_code == 422

    codes = _parameters(document, "/projects")["jurisdiction"]["enum"]
    assert set(counties) < set(codes) and "000000" in codes
    for code in codes:
        assert api.get("/projects", jurisdiction=code).status_code == 200, code
        assert api.get("/banks", jurisdiction=code).status_code == 200, code
    assert api.get("/banks", jurisdiction="999999").status_code == 422


def test_version_bounds_are_stated_and_kept(client, cast, document):
    schemas = document["components"]["schemas"]
    for model in ("TransitionRequest", "ProjectPatch", "IntendedBanksRequest"):
        version = schemas[model]["properties"]["version"]
        assert (version["minimum"], version["maximum"]) == (1, 2**31 - 1), model
    api = cast.api(client, "ent_a")
    project = api.post("/projects", project_payload()).json
    assert api.fire(project["id"], "submit", 2**31).status_code == 422
    assert api.fire(project["id"], "submit", 2**31 - 1).status_code == 409  # stale, not invalid
    keys = _parameters(document, "/workflows/{key}")
    assert keys["version"]["maximum"] == 10_000
    for key in keys["key"]["enum"]:
        assert api.get(f"/workflows/{key}").status_code == 200, key


def test_a_report_outside_ones_jurisdiction_is_forbidden_not_invalid(client, cast):
    api = cast.api(client, "miit")
    assert api.get("/stats/summary", jurisdiction="320506").status_code == 200
    assert api.get("/stats/summary", jurisdiction="410300").status_code == 403
    assert api.get("/stats/summary", jurisdiction="999999").status_code == 422
