"""Key and demonstration projects: the accepting agency tags a project in the library,
independent of its financing, each change in the audit trail; the provincial key list takes
projects of at least 2,000 万元 (practice); luoyang's targets count the tags."""

import pytest

from tests.helpers import Cast, project_payload


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent", "410305")
    cast.agency("county", "miit", "410305")
    cast.agency("miit", "miit", "410300")
    cast.agency("ndrc", "ndrc", "410300")
    return cast


def accepted(client, cast, **overrides) -> dict:
    ent = cast.api(client, "ent")
    p = ent.post("/projects", project_payload(jurisdiction="410305", financing_need="0",
                                              **overrides)).json
    p = ent.fire(p["id"], "submit", p["version"]).json
    p = cast.api(client, "county").fire(p["id"], "recommend", p["version"]).json
    p = cast.api(client, "miit").fire(p["id"], "accept", p["version"])
    assert p.status_code == 200, p.json
    return p.json


def test_tags_are_the_accepting_agencys_counted_against_luoyang_targets(client, cast):
    big = accepted(client, cast, project_code="2607-410305-07-02-000001")
    small = accepted(client, cast, name="小型机器换人项目", total_investment="1500",
                     fixed_asset_investment="1500", equipment_investment="1200",
                     project_code="2607-410305-07-02-000002")
    miit = cast.api(client, "miit")
    url = f"/projects/{big['id']}/designations"

    assert cast.api(client, "ent").put(url, {"tags": ["smart_factory"]}).status_code == 403
    assert cast.api(client, "ndrc").put(url, {"tags": ["smart_factory"]}).status_code == 403
    assert miit.put(url, {"tags": ["unicorn"]}).status_code == 422

    done = miit.put(url, {"tags": ["key_list", "smart_factory"], "comment": "列入首批"})
    assert done.status_code == 200, done.json
    assert done.json["tags"] == ["key_list", "smart_factory"]
    refused = miit.put(f"/projects/{small['id']}/designations", {"tags": ["key_list"]})
    assert refused.status_code == 422 and "2,000" in refused.json["message"]
    assert miit.put(f"/projects/{small['id']}/designations",
                    {"tags": ["robot_substitution", "typical_case"]}).status_code == 200

    events = miit.get(f"/projects/{big['id']}/events").json["items"]
    assert events[-1]["trigger"] == "designate"
    assert events[-1]["data"]["added"] == ["key_list", "smart_factory"]
    assert cast.api(client, "ent").get(f"/projects/{big['id']}").json["designations"] == [
        "key_list", "smart_factory"]

    summary = miit.get("/stats/summary").json
    assert summary["designations"] == {"key_list": 1, "smart_factory": 1,
                                       "robot_substitution": 1, "typical_case": 1}
    targets = {t["name"]: (t["value"], t.get("actual"))
               for t in summary["targets"]["targets"]}
    assert targets["smart_factories"] == ("140", 1)
    assert targets["green_factories"] == ("100", 0)
    assert targets["robot_substitution"] == ("80", 1)

    # a tag taken off is audited too, and counts no more
    assert miit.put(url, {"tags": ["key_list"]}).json["tags"] == ["key_list"]
    events = miit.get(f"/projects/{big['id']}/events").json["items"]
    assert events[-1]["data"]["removed"] == ["smart_factory"]
    assert "smart_factory" not in miit.get("/stats/summary").json["designations"]
