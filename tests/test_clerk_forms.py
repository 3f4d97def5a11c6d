"""Forms a clerk can use: 联系人 and 联系电话 on the declaration (form, API, project page,
print form), and print forms with every field filled — the 承诺书 names its 备案机关, the
申报表 its date."""

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Project
from tests.helpers import Cast, project_payload
from tests.test_web_forms import FORM, field_errors
from tests.web import post, signed_in, text_of

FULL = {"address": "吴中大道1号", "contact_name": "王经办", "contact_phone": "0512-65123456",
        "project_code": "2603-320506-07-02-000001"}


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent")
    cast.agency("sz_miit", "miit", "320500")
    cast.agency("sz_ndrc", "ndrc", "320500")
    return cast


def projects(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Project))


def test_contact_is_declared_through_the_api_and_shown(clean_app, cast):
    client = clean_app.test_client()
    api = cast.api(client, "ent")
    created = api.post("/projects", project_payload(**FULL, equipment=[
        {"kind": "new", "name": "五轴数控机床", "model": "VMC-850", "quantity": 2,
         "unit_price": "300", "energy_grade": 2}]))
    assert created.status_code == 201, created.json
    body = api.get(f"/projects/{created.json['id']}").json
    assert (body["contact_name"], body["contact_phone"]) == ("王经办", "0512-65123456")
    assert body["equipment"][0]["model"] == "VMC-850"

    patched = api.patch(f"/projects/{body['id']}", {"version": body["version"],
                                                    "contact_phone": "13912345678"})
    assert patched.status_code == 200 and patched.json["contact_phone"] == "13912345678"

    page = text_of(signed_in(clean_app, "ent").get(f"/projects/{body['id']}"))
    assert "联系人 王经办" in page and "联系电话 13912345678" in page and "VMC-850" in page


@pytest.mark.parametrize("phone", ["12345", "1391234567x", "021-123", "+86 139 1234 5678"])
def test_a_malformed_phone_is_refused_beside_the_field(clean_app, cast, phone):
    api = cast.api(clean_app.test_client(), "ent")
    refused = api.post("/projects", project_payload(contact_phone=phone), lang="zh")
    assert refused.status_code == 422
    assert "手机号码" in refused.json["fields"]["contact_phone"]
    client = signed_in(clean_app, "ent")
    response = post(client, "/projects/new", {**FORM, "contact_name": "王经办",
                                              "contact_phone": phone, "save": "1"},
                    "/projects/new")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "手机号码" in field_errors(html)["contact_phone"]
    assert 'value="王经办"' in html
    assert projects(clean_app) == 0


def test_contact_fields_on_the_web_form(clean_app, cast):
    client = signed_in(clean_app, "ent")
    response = post(client, "/projects/new", {**FORM, "contact_name": "李工",
                                              "contact_phone": "13912345678",
                                              "equipment-0-model": "DMU-50", "save": "1"},
                    "/projects/new")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "李工" in text_of(page) and "DMU-50" in text_of(page)
    edit = client.get(response.headers["Location"] + "/edit").get_data(as_text=True)
    assert 'value="13912345678"' in edit and 'value="DMU-50"' in edit


def empty_cells(html: str) -> list[str]:
    """The table cells of the printed form's tables that hold nothing."""
    article = html[html.index('<article class="print-doc"'):]
    return [m for m in re.findall(r"<td[^>]*>(.*?)</td>", article, flags=re.S)
            if not re.sub(r"<[^>]+>|\s", "", m)]


def test_print_forms_of_a_submitted_project_have_every_field_filled(clean_app, cast):
    client = clean_app.test_client()
    api = cast.api(client, "ent")
    project = api.post("/projects", project_payload(**FULL)).json
    api.fire(project["id"], "submit", project["version"])
    web = signed_in(clean_app, "ent")

    declaration = web.get(f"/projects/{project['id']}/print/declaration")
    html = declaration.get_data(as_text=True)
    assert empty_cells(html) == []
    date = re.search(r'<span id="declared-on">([^<]+)</span>', html)
    assert date and re.match(r"\d{4}年\d{1,2}月\d{1,2}日", date.group(1))
    assert "王经办" in html and "0512-65123456" in html

    commitment = web.get(f"/projects/{project['id']}/print/commitment").get_data(as_text=True)
    # national document: the development-and-reform agency files; the one registered
    # nearest the project is Suzhou's
    assert re.search(r'id="addressee">\s*sz_ndrc局：', commitment), \
        re.search(r'id="addressee">[^<]*', commitment)


def test_a_change_filing_shows_each_field_old_and_new(clean_app, cast):
    client = clean_app.test_client()
    ent, miit, ndrc = (cast.api(client, u) for u in ("ent", "sz_miit", "sz_ndrc"))
    project = ent.post("/projects", project_payload(**FULL)).json
    version = ent.fire(project["id"], "submit", project["version"]).json["version"]
    version = miit.fire(project["id"], "accept", version).json["version"]
    version = ent.fire(project["id"], "sign_commitment", version,
                       commitment_accepted=True).json["version"]
    version = ndrc.fire(project["id"], "file", version, filing_number="苏备1号").json["version"]
    changed = ent.patch(f"/projects/{project['id']}", {
        "version": version, "name": "数控机床更新改造项目（二期）", "total_investment": "8000",
        "contact_name": "王经办"})
    assert changed.status_code == 200, changed.json

    page = signed_in(clean_app, "sz_ndrc").get(f"/projects/{project['id']}")
    html = page.get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-field="(\w+)">(.*?)</tr>', html, flags=re.S))
    assert set(rows) == {"name", "total_investment"}  # the contact was already 王经办
    assert "数控机床更新改造项目</del>" in rows["name"]
    assert "数控机床更新改造项目（二期）</ins>" in rows["name"]
    assert "5,000 万元</del>" in rows["total_investment"]
    assert "8,000 万元</ins>" in rows["total_investment"]
