"""Forms: field errors beside the field, what the user typed kept, nothing written; CSRF on
every form; no project or file of another enterprise reachable by editing the URL."""

import io
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Comment, Project, WorkflowEvent
from tests.helpers import Cast, project_payload
from tests.web import csrf_token, post, signed_in, text_of

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    cast.enterprise("ent_b")
    cast.agency("miit", "miit", "320500")
    return cast


def rows(app):
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m))
                     for m in (Project, WorkflowEvent, Comment, Attachment))


FORM = {
    "name": "数控机床更新改造项目", "jurisdiction": "320506", "industry": "高端装备",
    "task": "advanced_equipment", "batch_year": "2026", "content": "更新数控机床",
    "total_investment": "5,000", "fixed_asset_investment": "4600",
    "equipment_investment": "4000", "planned_start": "2026-03-01",
    "planned_end": "2026-12-31", "financing_need": "2000", "financing_term_months": "36",
    "equipment-0-kind": "new", "equipment-0-name": "五轴数控机床", "equipment-0-quantity": "2",
    "equipment-0-unit_price": "2000", "equipment-0-energy_grade": "2",
    "equipment-1-kind": "old", "equipment-1-name": "普通车床", "equipment-1-quantity": "4",
    "equipment-1-years_in_service": "14", "equipment-1-energy_grade": "",
}


def field_errors(html: str) -> dict[str, str]:
    """{field id: error text} for each invalid field on the page."""
    return dict(re.findall(r'<p class="field__error" id="([\w-]+)-error">([^<]+)</p>', html))


@pytest.mark.parametrize(("changes", "field", "kept"), [
    ({"name": ""}, "name", "更新数控机床"),
    ({"equipment_investment": "-5"}, "equipment_investment", "-5"),
    ({"planned_end": "2025-01-01"}, "planned_end", "2025-01-01"),
    ({"fixed_asset_investment": "9,000"}, "fixed_asset_investment", "9,000"),
    ({"total_investment": "abc"}, "total_investment", "abc"),
    ({"project_code": "2603-3205-07-02-1"}, "project_code", "2603-3205-07-02-1"),
])
def test_declaration_form_errors_beside_fields_and_input_kept(clean_app, cast, changes, field,
                                                              kept):
    client = signed_in(clean_app, "ent_a")
    before = rows(clean_app)
    response = post(client, "/projects/new", {**FORM, **changes, "submit": "1"}, "/projects/new")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field in field_errors(html), field_errors(html)
    assert f'value="{kept}"' in html or f"{kept}</textarea>" in html
    assert 'value="普通车床"' in html  # the second equipment row is kept too
    assert rows(clean_app) == before


def test_equipment_row_errors_point_at_the_row(clean_app, cast):
    client = signed_in(clean_app, "ent_a")
    response = post(client, "/projects/new", {**FORM, "equipment-1-quantity": "0"},
                    "/projects/new")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    cell = re.search(r'name="equipment-1-quantity"[^>]*>\s*<span class="field__error">([^<]+)',
                     html)
    assert cell, html[html.find("equipment-1-quantity") - 200:][:800]


def test_rows_are_added_and_removed_without_saving(clean_app, cast):
    client = signed_in(clean_app, "ent_a")
    before = rows(clean_app)
    added = post(client, "/projects/new", {**FORM, "add_row": "1"}, "/projects/new")
    assert 'name="equipment-2-name"' in added.get_data(as_text=True)
    removed = post(client, "/projects/new", {**FORM, "remove_row": "0"}, "/projects/new")
    html = removed.get_data(as_text=True)
    assert 'value="普通车床"' in html and 'value="五轴数控机床"' not in html
    assert rows(clean_app) == before


def test_valid_declaration_is_saved_and_submitted(clean_app, cast):
    client = signed_in(clean_app, "ent_a")
    response = post(client, "/projects/new", {**FORM, "submit": "1"}, "/projects/new")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "已申报" in text_of(page) and "5,000 万元" in text_of(page)


def test_action_form_error_is_shown_on_the_project_page(clean_app, cast):
    client = signed_in(clean_app, "ent_a")
    location = post(client, "/projects/new", {**FORM, "submit": "1"},
                    "/projects/new").headers["Location"]
    miit = signed_in(clean_app, "miit")
    page = miit.get(location)
    version = re.search(r'name="version" value="(\d+)"', page.get_data(as_text=True)).group(1)
    before = rows(clean_app)
    response = post(miit, f"{location}/act/return", {"version": version, "comment": ""},
                    location)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="action-return" open' in html and "办理此环节必须填写" in html
    assert rows(clean_app) == before


def test_post_without_csrf_token_is_refused(clean_app, cast):
    client = signed_in(clean_app, "ent_a")
    before = rows(clean_app)
    response = client.post("/projects/new", data={**FORM, "submit": "1"})
    assert response.status_code == 400
    assert rows(clean_app) == before
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_login_form_errors(clean_app, cast):
    client = clean_app.test_client()
    response = client.post("/login", data={"username": "ent_a", "password": "wrong",
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 200
    assert "用户名或密码错误" in text_of(response) and 'value="ent_a"' in response.get_data(
        as_text=True)


def _project_with_file(clean_app, cast):
    api = cast.api(clean_app.test_client(), "ent_a")
    project = api.post("/projects", project_payload()).json
    client = signed_in(clean_app, "ent_a")
    url = f"/projects/{project['id']}"
    response = client.post(f"{url}/attachments", data={
        "csrf_token": csrf_token(client, url), "kind": "equipment_quote",
        "file": (io.BytesIO(PDF), "报价单.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302, text_of(response)[:500]
    link = re.search(r'href="(/projects/[^"]+/attachments/[^"]+)"',
                     client.get(url).get_data(as_text=True)).group(1)
    return url, link


def test_other_enterprise_cannot_reach_project_or_file_by_url(clean_app, cast):
    url, link = _project_with_file(clean_app, cast)
    owner = signed_in(clean_app, "ent_a")
    download = owner.get(link)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    other = signed_in(clean_app, "ent_b")
    for path in (url, link, f"{url}/edit", f"{url}/print/declaration"):
        assert other.get(path).status_code == 404, path
    attachment_id = link.rsplit("/", 1)[1]
    other_project = cast.api(clean_app.test_client(), "ent_b").post(
        "/projects", project_payload()).json
    # the file's id under a project the user may see does not lead to it either
    assert other.get(f"/projects/{other_project['id']}/attachments/{attachment_id}"
                     ).status_code == 404
    assert signed_in(clean_app, "miit").get(link).status_code == 404  # a draft: not declared


@pytest.mark.parametrize(("filename", "data", "message"), [
    ("空.pdf", b"", "文件为空"),
    ("脚本.pdf", b"<html><script>alert(1)</script></html>", "只接受 PDF、PNG、JPEG"),
    ("程序.png", b"MZ\x90\x00" + b"\0" * 64, "只接受 PDF、PNG、JPEG"),
    ("大.pdf", PDF + b"0" * (10 * 1024 * 1024), "文件超过 10 MB"),
])
def test_bad_uploads_are_refused(clean_app, cast, filename, data, message):
    api = cast.api(clean_app.test_client(), "ent_a")
    project = api.post("/projects", project_payload()).json
    client = signed_in(clean_app, "ent_a")
    url = f"/projects/{project['id']}"
    before = rows(clean_app)
    response = client.post(f"{url}/attachments", data={
        "csrf_token": csrf_token(client, url), "kind": "other",
        "file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in text_of(response)
    assert rows(clean_app) == before


def test_path_traversal_name_is_kept_only_as_a_display_name(clean_app, cast, tmp_path):
    api = cast.api(clean_app.test_client(), "ent_a")
    project = api.post("/projects", project_payload()).json
    client = signed_in(clean_app, "ent_a")
    url = f"/projects/{project['id']}"
    response = client.post(f"{url}/attachments", data={
        "csrf_token": csrf_token(client, url), "kind": "other",
        "file": (io.BytesIO(PDF), "../../etc/passwd.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    with clean_app.app_context():
        stored = db.session.scalar(select(Attachment))
        assert stored.filename == "passwd.pdf" and stored.storage_key.isalnum()


def test_comments_thread(clean_app, cast):
    api = cast.api(clean_app.test_client(), "ent_a")
    project = api.post("/projects", project_payload()).json
    client = signed_in(clean_app, "ent_a")
    url = f"/projects/{project['id']}"
    post(client, f"{url}/comments", {"body": "设备报价单已上传。"}, url)
    assert "设备报价单已上传。" in text_of(client.get(url))
    before = rows(clean_app)
    post(client, f"{url}/comments", {"body": "   "}, url)
    assert rows(clean_app) == before
    other = signed_in(clean_app, "ent_b")
    assert post(other, f"{url}/comments", {"body": "我也来看看"}, "/").status_code == 404
