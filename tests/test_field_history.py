"""Field-level history: every edit, change filing and its approval records each field's old
and new value; the API returns them and the timeline shows them."""

import pytest

from tests.helpers import Cast
from tests.test_change_filing import filed_project
from tests.web import signed_in


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    for kind in ("miit", "ndrc"):
        cast.agency(kind, kind, "320500")
    return cast


def test_each_changed_field_keeps_its_old_and_new_value(client, cast):
    p = filed_project(client, cast)
    ent = cast.api(client, "ent_a")
    edited = ent.patch(f"/projects/{p['id']}", {
        "version": p["version"], "address": "吴中经济开发区1号", "total_investment": "5900",
        "name": p["name"]})  # set to what it was: no change to record
    assert edited.status_code == 200, edited.json
    event = ent.get(f"/projects/{p['id']}/events").json["items"][-1]
    assert event["trigger"] == "edit"
    assert event["fields"] == {
        "address": {"old": p["address"], "new": "吴中经济开发区1号"},
        "total_investment": {"old": "5000", "new": "5900"}}

    filing = ent.patch(f"/projects/{p['id']}", {"version": edited.json["version"],
                                                "total_investment": "7500"}).json
    requested = ent.get(f"/projects/{p['id']}/events").json["items"][-1]
    assert requested["trigger"] == "request_change"
    assert requested["fields"] == {"total_investment": {"old": "5900", "new": "7500"}}
    approved = cast.api(client, "ndrc").fire(p["id"], "approve_change", filing["version"],
                                             filing_number="苏备1号-变1")
    assert approved.status_code == 200, approved.json
    decided = ent.get(f"/projects/{p['id']}/events").json["items"][-1]
    assert decided["trigger"] == "approve_change"
    assert decided["fields"] == {"total_investment": {"old": "5900", "new": "7500"}}

    page = signed_in(client.application, "ent_a").get(f"/projects/{p['id']}").get_data(
        as_text=True)
    assert page.count('data-field="total_investment"') == 3
    assert "5900 → 7500" in page and "吴中经济开发区1号" in page
