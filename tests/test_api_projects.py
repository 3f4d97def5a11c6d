"""Declaring, editing and listing projects: who sees what, pagination, optimistic locking."""

import pytest

from tests.helpers import Cast, counts, project_payload


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    cast.enterprise("ent_b")
    cast.enterprise("ent_harbin", county="230110")
    cast.agency("miit_suzhou", "miit", "320500")
    cast.agency("miit_jiangsu", "miit", "320000")
    cast.agency("miit_kunshan", "miit", "320583")
    cast.agency("miit_national", "miit", "000000")
    cast.bank("bank1")
    return cast


def test_created_draft_carries_payload_and_decimal_amounts(client, cast):
    response = cast.api(client, "ent_a").post("/projects", project_payload(
        total_investment="5000.25", project_code="2503-320506-07-02-204526"))
    assert response.status_code == 201
    body = response.json
    assert body["total_investment"] == "5000.25"
    assert body["enterprise"]["name"] == "ent_a有限公司"
    assert body["enterprise"]["credit_code"].startswith("91320506")
    assert [e["name"] for e in body["equipment"]] == ["五轴数控机床", "普通车床"]
    assert body["jurisdiction_name"] == "江苏省苏州市吴中区"
    assert body["workflow"] is None  # chosen and frozen when declared
    assert {t["trigger"] for t in body["available_triggers"]} == {"submit", "withdraw"}


def test_only_enterprises_declare(client, cast):
    response = cast.api(client, "miit_suzhou").post("/projects", project_payload())
    assert response.status_code == 403


def test_edit_draft_bumps_version_and_is_audited(client, cast):
    api = cast.api(client, "ent_a")
    project = api.post("/projects", project_payload()).json
    edited = api.patch(f"/projects/{project['id']}", {
        "version": 1, "name": "数控机床及产线更新改造项目",
        "equipment": [{"kind": "new", "name": "激光切割机", "quantity": 1, "unit_price": "800"}]})
    assert edited.status_code == 200, edited.json
    assert edited.json["version"] == 2 and edited.json["name"] == "数控机床及产线更新改造项目"
    assert [e["name"] for e in edited.json["equipment"]] == ["激光切割机"]
    events = api.get(f"/projects/{project['id']}/events").json["items"]
    assert [e["trigger"] for e in events] == ["create", "edit"]
    assert events[1]["data"]["changes"]["name"] == "数控机床及产线更新改造项目"


def test_stale_edit_is_409_and_changes_nothing(client, cast):
    api = cast.api(client, "ent_a")
    project = api.post("/projects", project_payload()).json
    assert api.patch(f"/projects/{project['id']}", {"version": 1, "address": "一号"}).status_code == 200
    before = counts(client.application, project["id"])
    stale = api.patch(f"/projects/{project['id']}", {"version": 1, "address": "二号"})
    assert stale.status_code == 409
    assert api.get(f"/projects/{project['id']}").json["address"] == "一号"
    assert counts(client.application, project["id"]) == before


def test_declared_project_is_not_editable(client, cast):
    api = cast.api(client, "ent_a")
    project = api.post("/projects", project_payload()).json
    project = api.fire(project["id"], "submit", 1).json
    response = api.patch(f"/projects/{project['id']}", {"version": project["version"], "name": "改名"})
    assert response.status_code == 409


def test_other_enterprise_cannot_see_or_edit(client, cast):
    project = cast.api(client, "ent_a").post("/projects", project_payload()).json
    other = cast.api(client, "ent_b")
    assert other.get(f"/projects/{project['id']}").status_code == 404
    assert other.patch(f"/projects/{project['id']}", {"version": 1, "name": "x"}).status_code == 404
    assert other.get(f"/projects/{project['id']}/events").status_code == 404
    assert other.get("/projects").json["items"] == []


def _declare(client, cast, enterprise, **overrides):
    api = cast.api(client, enterprise)
    project = api.post("/projects", project_payload(**overrides)).json
    return api.fire(project["id"], "submit", project["version"]).json


def test_agencies_see_declared_projects_of_their_jurisdiction_and_below(client, cast):
    suzhou = _declare(client, cast, "ent_a", name="苏州项目")
    harbin = _declare(client, cast, "ent_harbin", name="哈尔滨项目", jurisdiction="230110",
                      project_code=None)
    draft = cast.api(client, "ent_a").post("/projects", project_payload(name="草稿项目")).json

    def names(user, **params):
        return {p["name"] for p in cast.api(client, user).get("/projects", **params).json["items"]}

    assert names("miit_suzhou") == {"苏州项目"}
    assert names("miit_jiangsu") == {"苏州项目"}
    assert names("miit_national") == {"苏州项目", "哈尔滨项目"}
    assert names("miit_kunshan") == set()
    assert names("bank1") == set()  # nothing whitelisted yet
    assert names("ent_a") == {"苏州项目", "草稿项目"}
    assert cast.api(client, "miit_suzhou").get(f"/projects/{draft['id']}").status_code == 404
    assert cast.api(client, "miit_suzhou").get(f"/projects/{harbin['id']}").status_code == 404
    assert cast.api(client, "miit_national").get(f"/projects/{suzhou['id']}").status_code == 200


def test_list_filters_and_keyset_pagination(client, cast):
    api = cast.api(client, "ent_a")
    for i in range(7):
        api.post("/projects", project_payload(name=f"项目{i}", industry="高端装备" if i % 2 else "新材料"))
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/projects", **params).json
        seen += [p["name"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"项目{i}" for i in reversed(range(7))]
    assert {p["name"] for p in api.get("/projects", industry="新材料").json["items"]} == {
        "项目0", "项目2", "项目4", "项目6"}
    assert [p["name"] for p in api.get("/projects", q="目3").json["items"]] == ["项目3"]
    assert api.get("/projects", q="%").json["items"] == []  # wildcards are literal
    assert len(api.get("/projects", status="draft,declared").json["items"]) == 7
    assert api.get("/projects", status="completed").json["items"] == []


def test_workflows_endpoints(client, cast):
    api = cast.api(client, "ent_a")
    listing = api.get("/workflows").json["items"]
    assert any(w["key"] == "national-miit-2024-53" for w in listing)
    detail = api.get("/workflows/national-miit-2024-53").json
    accept = next(t for t in detail["transitions"] if t["trigger"] == "accept")
    assert accept["role"] == "agency:miit" and accept["clause"] == "结尾段"
    assert accept["quote"].startswith("各地区工业和信息化主管部门牵头负责")
    # no document sets a time limit: the agency's own, shown as such
    assert accept["time_limit"]["value"] == "20" and accept["time_limit"]["basis"] == "local"
    assert "source" not in detail  # documents are cited by title and number, not by file
    assert api.get("/workflows/nope").status_code == 404


def test_openapi_document_lists_the_routes(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert {"/projects", "/projects/{project_id}", "/projects/{project_id}/transitions",
            "/projects/{project_id}/events", "/workflows", "/workflows/{key}"} <= set(doc["paths"])
    assert "ProjectCreate" in doc["components"]["schemas"]


def test_a_transition_can_answer_with_just_the_new_state(client, cast):
    """`Prefer: return=minimal` (RFC 7240) answers a step with id, status and version; the
    step itself is the same, audited in full; without it the whole project comes back."""
    api = cast.api(client, "ent_a")
    project = api.post("/projects", project_payload()).json
    answer = client.post(f"/api/v1/projects/{project['id']}/transitions",
                         json={"trigger": "submit", "version": project["version"]},
                         headers={**api._headers(), "Prefer": "handling=strict, RETURN=minimal"})
    assert answer.status_code == 200
    assert answer.headers["Preference-Applied"] == "return=minimal"
    assert answer.json == {"id": project["id"], "status": "declared",
                           "status_label": "Declared", "version": project["version"] + 1}
    shown = api.get(f"/projects/{project['id']}").json
    assert (shown["status"], shown["version"]) == ("declared", answer.json["version"])
    assert api.get(f"/projects/{project['id']}/events").json["items"][-1]["trigger"] == "submit"
    full = cast.api(client, "miit_suzhou").fire(project["id"], "return", shown["version"],
                                                comment="请补充设备清单")
    assert full.status_code == 200 and "Preference-Applied" not in full.headers
    assert full.json["status"] == "returned" and "available_triggers" in full.json
    assert [e["name"] for e in full.json["equipment"]] == ["五轴数控机床", "普通车床"]
