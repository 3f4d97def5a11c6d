"""Forms and tables a clerk can use, in Chromium: equipment rows added in the page with
their subtotal checked against 设备投资; the action panel first on a narrow screen; finance
tables without raw ids, with readable bank names, estimated and confirmed relending apart
and a 合计 row; the dashboard's export as a sheet."""

import io
import os
import re
from datetime import datetime
from html import escape
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from app.extensions import db
from app.models import OrgKind, Project
from app.workflow import workflows
from tests.helpers import Cast
from tests.test_browser_journey import Desk
from tests.test_browser_routing import TODAY, walk

pytestmark = pytest.mark.slow

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LENT = [("submit", "qiye"), ("accept", "sz_miit"), ("sign_commitment", "qiye"),
        ("file", "sz_ndrc"), ("whitelist", "sz_miit"), ("express_interest", "sz_bank"),
        ("approve_credit", "sz_bank"), ("sign_contract", "sz_bank"), ("record_loan", "sz_bank")]


@pytest.fixture
def cast(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("qiye", "320506")
    for kind in ("miit", "ndrc", "pboc"):
        cast.agency(f"sz_{kind}", kind, "320500")
    cast._create("sz_bank", kind=OrgKind.BANK,
                 name="中国工商银行股份有限公司苏州吴中支行", jurisdiction_code="320500",
                 serves=["320500"])
    return cast


def test_equipment_rows_are_added_in_the_page_and_checked_against_equipment_investment(
        browser, live_server, cast, artifacts, backend):
    ent = Desk(browser, live_server, "qiye", artifacts, backend[0])
    p = ent.page
    p.goto(live_server + "/projects/new")
    p.fill("#name", "数控机床更新改造项目（设备行）")
    p.fill("#total_investment", "5,000")
    p.fill("#equipment_investment", "4000")
    p.fill("#equipment-0-name", "五轴数控机床")
    p.fill("#equipment-0-model", "DMU 65")
    p.fill("#equipment-0-quantity", "2")
    p.fill("#equipment-0-unit_price", "1500")
    assert p.inner_text("#equipment-subtotal") == "3,000"

    p.evaluate("window.sameDocument = true")
    p.locator("button[name=add_row]").scroll_into_view_if_needed()
    before = p.evaluate("window.scrollY")
    p.click("button[name=add_row]")
    assert p.evaluate("window.sameDocument") is True  # no reload
    assert abs(p.evaluate("window.scrollY") - before) < 80  # the place is kept
    assert p.evaluate("document.activeElement.id") == "equipment-1-name"
    assert p.input_value("#equipment-0-model") == "DMU 65"
    p.fill("#equipment-1-name", "激光切割机")
    p.fill("#equipment-1-model", "LC-3015")
    p.fill("#equipment-1-quantity", "1")
    p.fill("#equipment-1-unit_price", "900")
    assert p.inner_text("#equipment-subtotal") == "3,900"
    ent.shot("20-equipment-rows")
    p.click("button[name=add_row]")
    p.fill("#equipment-2-name", "多余的一行")
    p.fill("#equipment-2-quantity", "3")
    p.fill("#equipment-2-unit_price", "10")
    assert p.inner_text("#equipment-subtotal") == "3,930"
    p.locator("#equipment-rows tbody tr").nth(2).locator("[data-remove-row]").click()
    assert p.evaluate("window.sameDocument") is True
    assert p.locator("#equipment-rows tbody tr").count() == 2
    assert p.inner_text("#equipment-subtotal") == "3,900"

    with p.expect_navigation():
        p.click("button[name=save]")
    error = p.locator("#equipment_investment-error")
    assert "3,900" in error.inner_text() and "4,000" in error.inner_text()
    assert p.input_value("#equipment-1-model") == "LC-3015"  # both rows kept
    ent.shot("21-equipment-mismatch")

    p.fill("#equipment-1-unit_price", "1000")
    with p.expect_navigation():
        p.click("button[name=save]")
    assert p.locator(".flash--success").count() == 1
    assert p.locator("table td:text-is('LC-3015')").count() == 1


def test_the_action_panel_comes_first_on_a_narrow_screen(browser, live_server, clean_app, cast,
                                                         artifacts, backend):
    walk(clean_app, cast, "qiye", "320506", [("submit", "qiye")], "窄屏审核项目")
    miit = Desk(browser, live_server, "sz_miit", artifacts, backend[0])
    miit.open_project("窄屏审核项目")
    panel, facts = miit.page.locator(".actions-panel"), miit.page.locator("#h-facts")
    wide_panel, wide_facts = panel.bounding_box(), facts.bounding_box()
    assert wide_panel["x"] > wide_facts["x"] + wide_facts["width"]  # beside, at 1366 px
    miit.shot("22-project-1366")

    miit.page.set_viewport_size({"width": 390, "height": 844})
    narrow_panel, narrow_facts = panel.bounding_box(), facts.bounding_box()
    assert narrow_panel["y"] < narrow_facts["y"]
    assert narrow_panel["y"] < 844  # on the first screen, not ~3,000 px down
    assert miit.page.locator("#owed-actions #action-accept").is_visible()
    miit.shot("23-project-390")


def test_finance_tables_a_clerk_can_read(browser, live_server, clean_app, cast, artifacts,
                                         backend):
    walk(clean_app, cast, "qiye", "320506", LENT, "苏州再贷款改造项目")
    bank = Desk(browser, live_server, "sz_bank", artifacts, backend[0])
    bank.page.goto(live_server + "/loans")
    book = bank.page.locator("#loan-book")
    assert not UUID.search(book.inner_text())
    row = book.locator("tbody tr").first
    # 800 drawn, 60 % refinanceable: an estimate until the people's bank confirms
    assert row.locator("[data-key=relending-estimated]").inner_text() == "480"
    assert row.locator("[data-key=relending-confirmed]").inner_text() == "—"
    totals = bank.page.locator("#loan-totals")
    assert "合计" in totals.inner_text() and "800" in totals.inner_text()
    bank.shot("24-loan-book")

    bank.open_project("苏州再贷款改造项目")
    loans = bank.page.locator("#loans")
    assert not UUID.search(loans.inner_text())
    name = loans.locator("td.cell--name").first
    lines = name.evaluate("e => { const r = document.createRange(); r.selectNodeContents(e);"
                          " return new Set([...r.getClientRects()].map(b => b.top)).size; }")
    assert lines <= 3  # 19 characters: not one per line
    text = bank.page.inner_text("#finance")
    assert "再贷款本金·预计" in text and "再贷款本金·已确认" in text
    bank.shot("25-project-finance")

    pboc = Desk(browser, live_server, "sz_pboc", artifacts, backend[0])
    pboc.open_project("苏州再贷款改造项目")
    pboc.act("confirm_refinancing", refinanced_on=TODAY, comment="确认再贷款支持。")
    bank.page.goto(live_server + "/loans")
    row = bank.page.locator("#loan-book tbody tr").first
    assert row.locator("[data-key=relending-estimated]").inner_text() == "—"
    assert row.locator("[data-key=relending-confirmed]").inner_text().startswith("480")


def shown(value) -> str:
    """A cell as a spreadsheet shows it (dates in the sheet's yyyy-mm-dd)."""
    if value is None:
        return ""
    return value.date().isoformat() if isinstance(value, datetime) else str(value)


def test_the_dashboard_export_as_a_clerk_sees_it(browser, live_server, clean_app, cast,
                                                 artifacts, backend):
    for i, steps in enumerate([[("submit", "qiye")], [("submit", "qiye"),
                                                      ("accept", "sz_miit")],
                               [("submit", "qiye")]]):
        public_id = walk(clean_app, cast, "qiye", "320506", steps, f"导出项目{i}")
    with clean_app.app_context():  # the third is returned: off the dashboard
        project = db.session.scalar(select(Project).where(Project.public_id == public_id))
        workflows().fire(project, "return", cast.user("sz_miit"), version=project.version,
                         comment="请补充联系人")
    miit = Desk(browser, live_server, "sz_miit", artifacts, backend[0])
    miit.page.goto(live_server + "/dashboard")
    with miit.page.expect_download() as download:
        miit.page.click("text=导出 Excel")
    path = download.value.path()
    sheet = load_workbook(io.BytesIO(Path(path).read_bytes())).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 + 2 + 1  # what it covers, header, the two in the library, totals
    # the sheet's first rows, rendered for the eye (no office suite on the machine)
    cells = f"<tr><td colspan='{sheet.max_column}'>{escape(rows[0][0])}</td></tr>" + "".join(
        "<tr>" + "".join(f"<td>{escape(shown(v))}</td>" for v in row) + "</tr>"
        for row in rows[1:12])
    widths = [sheet.column_dimensions[get_column_letter(i)].width * 8
              for i in range(1, sheet.max_column + 1)]
    columns = "<colgroup>" + "".join(f"<col style='width:{w}px'>" for w in widths) + "</colgroup>"
    miit.page.set_viewport_size({"width": int(sum(widths)) + 40, "height": 400})
    miit.page.set_content(f"<meta charset='utf-8'><style>body{{font:13px sans-serif}}"
                          f"td{{border:1px solid #999;padding:2px 6px;white-space:nowrap;overflow:hidden}}"
                          f"tr:nth-child(2){{font-weight:bold;background:#eef}}</style>"
                          f"<p>{escape(os.path.basename(download.value.suggested_filename))} · "
                          f"冻结 {sheet.freeze_panes} · 筛选 {sheet.auto_filter.ref}</p>"
                          f"<table style='table-layout:fixed;width:{sum(widths)}px'>{columns}{cells}</table>")
    miit.shot("26-export")


def test_the_agency_sees_what_changed_after_a_return(browser, live_server, clean_app, cast,
                                                     artifacts, backend):
    walk(clean_app, cast, "qiye", "320506", [("submit", "qiye")], "退回补正改造项目")
    miit = Desk(browser, live_server, "sz_miit", artifacts, backend[0])
    miit.open_project("退回补正改造项目")
    miit.act("return", comment="1、请补充联系人；2、设备清单缺少型号规格。\n3、请附营业执照")

    ent = Desk(browser, live_server, "qiye", artifacts, backend[0])
    ent.open_project("退回补正改造项目")
    assert ent.page.locator("#return-reasons li").count() == 3
    with ent.page.expect_navigation():
        ent.page.click("text=修改")
    ent.page.fill("#contact_name", "王经办")
    ent.page.fill("#contact_phone", "0512-65123456")
    ent.page.fill("#equipment-0-model", "DMU 65")
    ent.page.fill("#equipment-0-unit_price", "2000")
    with ent.page.expect_navigation():
        ent.page.click("button[name=submit]")
    assert ent.status() == "已申报"

    miit.open_project("退回补正改造项目")
    reasons = miit.page.locator("#return-reasons li")
    assert reasons.all_inner_texts()[0].startswith("☑ 请补充联系人")
    assert "已修改：联系人" in reasons.nth(0).inner_text()
    assert "已修改：设备清单" in reasons.nth(1).inner_text()
    assert reasons.nth(2).inner_text().startswith("☐ 请附营业执照")
    rows = {r.get_attribute("data-field"): r.inner_text()
            for r in miit.page.locator("#changed-fields tbody tr").all()}
    assert set(rows) == {"contact_name", "contact_phone", "equipment"}
    assert "—" in rows["contact_name"] and "王经办" in rows["contact_name"]
    assert "DMU 65" in rows["equipment"] and "2,000 万元" in rows["equipment"]
    miit.shot("27-what-changed")
