"""Uploads (issue 17, finding 8): a file is named by the type its content has, not by the
name it came with; its uploader may delete it while the project is a draft or returned
(an audit-only step); a project holds a bounded number of files and bytes."""

import io
import re
import struct
import zlib

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, WorkflowEvent
from app.projects.files import file_store
from tests.helpers import Cast, project_payload
from tests.web import csrf_token, signed_in, text_of

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


PNG = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
       + _chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00")) + _chunk(b"IEND", b""))
POLYGLOT = PNG + b"<html><script>alert(document.cookie)</script></html>"


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")
    cast.agency("miit", "miit", "320500")
    return cast


@pytest.fixture
def draft(clean_app, cast):
    return cast.api(clean_app.test_client(), "ent_a").post("/projects", project_payload()).json


def _upload(client, project_id, name, data, kind="other"):
    url = f"/projects/{project_id}"
    return client.post(f"{url}/attachments", data={
        "csrf_token": csrf_token(client, url), "kind": kind,
        "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _links(client, project_id) -> list[str]:
    return re.findall(r'href="(/projects/[^"]+/attachments/[^"/]+)"',
                      client.get(f"/projects/{project_id}").get_data(as_text=True))


def _count(app, model=Attachment, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return db.session.scalar(query)


@pytest.mark.parametrize(("name", "data", "stored", "mime"), [
    ("evil.html", POLYGLOT, "evil.png", "image/png"),
    ("报价单.pdf", PNG, "报价单.png", "image/png"),
    ("invoice", PDF, "invoice.pdf", "application/pdf"),
    ("scan.svg.exe", PDF, "scan.svg.pdf", "application/pdf"),
], ids=["png-html-polyglot", "png-named-pdf", "no-extension", "double-extension"])
def test_a_file_is_named_and_given_out_by_its_detected_type(clean_app, cast, draft, name,
                                                            data, stored, mime):
    client = signed_in(clean_app, "ent_a")
    assert _upload(client, draft["id"], name, data).status_code == 302
    [link] = _links(client, draft["id"])
    assert stored in text_of(client.get(f"/projects/{draft['id']}"))
    download = client.get(link)
    assert download.status_code == 200 and download.data == data
    assert download.mimetype == mime
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert ".html" not in disposition and ".exe" not in disposition
    assert stored.rsplit(".", 1)[1] in disposition
    with clean_app.app_context():
        assert db.session.scalar(select(Attachment.filename)) == stored


def _delete(client, link):
    return client.post(f"{link}/delete", data={"csrf_token": csrf_token(
        client, link.rsplit("/attachments/", 1)[0])})


def test_the_uploader_deletes_their_file_from_a_draft(clean_app, cast, draft):
    client = signed_in(clean_app, "ent_a")
    _upload(client, draft["id"], "报价单.pdf", PDF)
    [link] = _links(client, draft["id"])
    with clean_app.app_context():
        key = db.session.scalar(select(Attachment.storage_key))
        assert file_store().path(key).exists()
    page = client.get(f"/projects/{draft['id']}").get_data(as_text=True)
    assert f'action="{link}/delete"' in page
    response = _delete(client, link)
    assert response.status_code == 302
    assert _links(client, draft["id"]) == []
    assert client.get(link).status_code == 404
    assert _count(clean_app) == 0
    assert _count(clean_app, WorkflowEvent, trigger="detach") == 1
    timeline = text_of(client.get(f"/projects/{draft['id']}?lang=en"))
    assert "Deleted a file" in timeline
    with clean_app.app_context():
        assert not file_store().path(key).exists()


def test_only_the_uploader_and_only_before_declaration(clean_app, cast, draft):
    owner = signed_in(clean_app, "ent_a")
    _upload(owner, draft["id"], "报价单.pdf", PDF)
    [link] = _links(owner, draft["id"])
    api = cast.api(clean_app.test_client(), "ent_a")
    assert api.fire(draft["id"], "submit", draft["version"] + 1).status_code == 200
    # declared: the file is part of what the agency reviews
    page = owner.get(f"/projects/{draft['id']}").get_data(as_text=True)
    assert "/delete" not in page
    assert _delete(owner, link).status_code == 409
    agency = signed_in(clean_app, "miit")
    assert agency.get(link).status_code == 200
    assert _delete(agency, link).status_code == 403
    assert _count(clean_app) == 1
    # returned to the enterprise: it may take the file away again
    version = api.get(f"/projects/{draft['id']}").json["version"]
    returned = cast.api(clean_app.test_client(), "miit").fire(
        draft["id"], "return", version, comment="补充材料")
    assert returned.status_code == 200, returned.json
    assert _delete(owner, link).status_code == 302
    assert _count(clean_app) == 0


def test_api_lists_and_deletes_attachments(clean_app, cast, draft):
    client = signed_in(clean_app, "ent_a")
    _upload(client, draft["id"], "evil.html", POLYGLOT)
    api = cast.api(clean_app.test_client(), "ent_a")
    [item] = api.get(f"/projects/{draft['id']}/attachments").json["items"]
    assert (item["filename"], item["content_type"], item["may_delete"]) == (
        "evil.png", "image/png", True)
    agency = cast.api(clean_app.test_client(), "miit")
    assert agency.get(f"/projects/{draft['id']}/attachments").status_code == 404  # a draft
    path = f"/api/v1/projects/{draft['id']}/attachments/{item['id']}"
    headers = {"Authorization": f"Bearer {cast.tokens['ent_a']}"}
    response = clean_app.test_client().delete(path, headers=headers)
    assert response.status_code == 204, response.get_data(as_text=True)
    assert api.get(f"/projects/{draft['id']}/attachments").json["items"] == []
    again = clean_app.test_client().delete(path, headers=headers)
    assert again.status_code == 404 and again.json["error"] == "not_found"


@pytest.mark.parametrize(("setting", "value", "files"), [
    ("ATTACHMENT_MAX_COUNT", 2, [PDF, PDF, PNG]),
    ("ATTACHMENT_MAX_PROJECT_BYTES", len(PDF) + len(PNG), [PDF, PNG, PDF]),
], ids=["count", "bytes"])
def test_a_project_holds_a_bounded_number_of_files_and_bytes(clean_app, cast, draft, setting,
                                                             value, files):
    before = clean_app.config[setting]
    clean_app.config[setting] = value
    try:
        client = signed_in(clean_app, "ent_a", lang="en")
        for data in files[:-1]:
            assert _upload(client, draft["id"], "a.pdf", data).status_code == 302
        response = _upload(client, draft["id"], "b.pdf", files[-1])
    finally:
        clean_app.config[setting] = before
    assert response.status_code == 422
    error = re.search(r'<p class="field__error">([^<]+)</p>', response.get_data(as_text=True))
    assert error and "project" in error.group(1), error
    assert _count(clean_app) == len(files) - 1
