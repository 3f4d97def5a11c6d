"""Batch imports: bounded in rows, kept errors and unpacked size; only the agency that
accepts an enterprise's projects imports for it. (The chunked writing, concurrent writers
and a killed worker: tests/test_jobs_faults.py.)"""

import io
import zipfile

import pytest
from sqlalchemy import func, select

from app.errors import Invalid
from app.extensions import db
from app.jobs import imports as import_jobs
from app.models import Job, Project, WorkflowEvent
from tests.helpers import Cast, import_row, import_workbook
from tests.web import csrf_token, signed_in, text_of


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent_a")  # registered in 320506, Suzhou
    cast.agency("suzhou_miit", "miit", "320500")
    return cast


def credit(app, cast, username="ent_a") -> str:
    with app.app_context():
        return cast.user(username).organization.credit_code


def imported(app, cast, username, data, filename="x.xlsx") -> Job:
    with app.app_context():
        job = import_jobs.start_import(cast.user(username), data, filename)
        db.session.expunge_all()
        return db.session.get(Job, job.id)


def test_only_the_accepting_agency_of_the_enterprise_imports_for_it(clean_app, cast):
    code = credit(clean_app, cast)
    cast.agency("suzhou_ndrc", "ndrc", "320500")  # files projects; does not accept them
    cast.agency("luoyang_miit", "miit", "410300")  # accepts projects in Luoyang only
    own_place = import_workbook([import_row(code, 1)])
    elsewhere = import_workbook([import_row(code, 2, jurisdiction="410305")])

    for who, data in (("suzhou_ndrc", own_place), ("luoyang_miit", elsewhere)):
        job = imported(clean_app, cast, who, data)
        assert job.status == "failed", who
        assert [(e["row"], e["column"]) for e in job.errors] == [(2, "统一社会信用代码")], who
    with clean_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Project)) == 0

    job = imported(clean_app, cast, "suzhou_miit", own_place)
    assert (job.status, job.created) == ("done", 1)


def test_a_file_of_too_many_rows_is_refused_with_one_problem(clean_app, cast):
    """300,000 junk rows once ran for a minute and stored 600,000 errors: now the rows are
    bounded, and past the bound the file is refused as a whole."""
    clean_app.config["IMPORT_MAX_ROWS"] = 1000
    try:
        junk = [["垃圾", "x", "999999", *["?"] * 21] for _ in range(3000)]
        job = imported(clean_app, cast, "suzhou_miit", import_workbook(junk))
    finally:
        clean_app.config["IMPORT_MAX_ROWS"] = 20000
    assert job.status == "failed" and job.error_count == 1
    assert job.errors == [{"row": 1002, "column": "—",
                           "reason": "超过 1000 行，请拆分为多个文件。"}]


def test_the_first_thousand_problems_are_kept_with_a_count_of_the_rest(clean_app, cast):
    code = credit(clean_app, cast)
    # each row: an amount in words and neither 是 nor 否 — two problems a row
    rows = [import_row(code, i, total_investment="五千", new_land="也许")
            for i in range(1500)]
    job = imported(clean_app, cast, "suzhou_miit", import_workbook(rows))
    assert job.status == "failed"
    assert (len(job.errors), job.error_count, job.total) == (1000, 3000, 1500)
    assert job.errors[0]["row"] == 2 and job.errors[-1]["row"] == 501  # the first 500 rows
    page = signed_in(clean_app, "suzhou_miit").get(f"/imports/{job.public_id}")
    assert len(page.data) < 400_000  # the page of 600,000 errors was 57 MB
    assert "另有 2000 个问题未列出" in text_of(page)


def _bomb(unpacked_mb: int) -> bytes:
    """A valid workbook with a part that unpacks to `unpacked_mb` MB (it packs to kilobytes)."""
    packed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(import_workbook([]))) as book, \
            zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as bomb:
        for member in book.infolist():
            bomb.writestr(member, book.read(member))
        bomb.writestr("xl/media/padding.bin", b"\0" * (unpacked_mb * 1024 * 1024))
    return packed.getvalue()


def test_a_workbook_that_unpacks_too_large_is_refused_unread(clean_app, cast):
    clean_app.config["IMPORT_MAX_UNPACKED"] = 2 * 1024 * 1024
    try:
        data = _bomb(8)
        assert len(data) < 100_000
        with clean_app.app_context(), pytest.raises(Invalid) as refused:
            import_jobs.start_import(cast.user("suzhou_miit"), data, "bomb.xlsx")
        assert "2 MB" in refused.value.fields["file"]
        assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist()) > 8e6

        client = signed_in(clean_app, "suzhou_miit")
        answer = client.post("/imports", data={
            "csrf_token": csrf_token(client, "/imports"),
            "file": (io.BytesIO(data), "bomb.xlsx")}, content_type="multipart/form-data",
            follow_redirects=True)
        assert "解压后超过 2 MB" in text_of(answer)
    finally:
        clean_app.config["IMPORT_MAX_UNPACKED"] = 100 * 1024 * 1024
    with clean_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_each_imported_project_names_its_file_and_row(clean_app, cast):
    code = credit(clean_app, cast)
    job = imported(clean_app, cast, "suzhou_miit",
                   import_workbook([import_row(code, i) for i in range(3)]), "三行.xlsx")
    assert job.status == "done" and job.created == 3
    with clean_app.app_context():
        trail = [e.data for e in db.session.scalars(select(WorkflowEvent).where(
            WorkflowEvent.trigger == "import").order_by(WorkflowEvent.project_id))]
    assert [(d["imported_from"], d["imported_row"]) for d in trail] == [
        ("三行.xlsx", 2), ("三行.xlsx", 3), ("三行.xlsx", 4)]
