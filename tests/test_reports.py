"""Reports: the dashboard's figures against independent SQL, the plan import, Excel out and in."""

import io
import os
from decimal import Decimal
from pathlib import Path

import pytest
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, text

from app.errors import Invalid
from app.extensions import db
from app.jobs import imports as import_jobs
from app.models import Job, Project, User
from app.reporting import dashboard as reports
from app.reporting import imports
from app.reporting.plans import import_plan
from bench.datagen import generate
from tests.helpers import Cast
from tests.web import signed_in

PLAN = Path(__file__).parent / "data" / "heilongjiang-plan-2024-2027.csv"
WAN = Decimal(10000)
IN_LIBRARY = "('declared','commitment_filing','financing_matchmaking','lead_bank_designated'," \
             "'completed')"


@pytest.fixture
def world(clean_app):
    """A generated library across the five jurisdictions, Heilongjiang's plan, and users."""
    with clean_app.app_context():
        generate(400, seed=7)
        import_plan(PLAN.read_text(encoding="utf-8"), "230000", PLAN.name)
    cast = Cast(clean_app)
    cast.agency("hlj_miit", "miit", "230000")
    cast.admin("admin")
    return clean_app, cast


def sql(app, query, **params):
    with app.app_context():
        return db.session.execute(text(query), params).all()


def wan(yuan) -> Decimal:
    return (Decimal(yuan or 0) / WAN).normalize() + 0


@pytest.mark.parametrize(("username", "scope", "year", "where"), [
    ("admin", None, None, "1 = 1"),
    ("hlj_miit", None, None, "p.province_code = '230000'"),
    ("hlj_miit", None, 2026, "p.province_code = '230000' AND p.batch_year = 2026"),
    ("admin", "410300", 2025, "p.city_code = '410300' AND p.batch_year = 2025"),
])
def test_dashboard_equals_independent_sql(world, username, scope, year, where):
    app, cast = world
    everywhere, where = where, f"{where} AND p.status IN {IN_LIBRARY}"
    with app.app_context():
        report = reports.summary(cast.user(username), scope, year)

    assert report.by_stage == dict(sql(app, f"SELECT status, COUNT(*) FROM projects p "
                                            f"WHERE {where} GROUP BY status"))
    [(n, total, equipment, annual, need)] = sql(app, (
        "SELECT COUNT(*), SUM(total_investment_yuan), SUM(equipment_investment_yuan), "
        f"SUM(annual_investment_yuan), SUM(financing_need_yuan) FROM projects p WHERE {where}"))
    assert report.totals == {"projects": n, "total_investment": wan(total),
                             "equipment_investment": wan(equipment),
                             "annual_investment": wan(annual)}
    industries = {i: (c, wan(t), wan(e)) for i, c, t, e in sql(app, (
        "SELECT industry, COUNT(*), SUM(total_investment_yuan), SUM(equipment_investment_yuan) "
        f"FROM projects p WHERE {where} GROUP BY industry"))}
    assert {r["industry"]: (r["projects"], r["total_investment"], r["equipment_investment"])
            for r in report.by_industry} == industries
    [(credit, contract)] = sql(app, (
        "SELECT SUM(e.credit_amount_yuan), SUM(e.contract_amount_yuan) FROM engagements e "
        f"JOIN projects p ON p.id = e.project_id WHERE {where}"))
    [(drawn, relending, subsidy, loans)] = sql(app, (
        "SELECT SUM(l.amount_yuan), SUM(l.relending_principal_yuan), SUM(l.subsidy_yuan), "
        f"COUNT(*) FROM loans l JOIN projects p ON p.id = l.project_id WHERE {where}"))
    # subsidy claims count whatever became of the project (a failed one's are clawed back)
    [claims] = sql(app, (
        "SELECT SUM(c.claimed_yuan), SUM(c.approved_yuan), SUM(c.paid_yuan), "
        "SUM(c.clawed_back_yuan) FROM subsidy_claims c JOIN projects p ON p.id = c.project_id "
        f"WHERE c.status <> 'returned' AND {everywhere}"))
    assert report.financing == {"need": wan(need), "credit": wan(credit),
                                "contracted": wan(contract), "drawn": wan(drawn), "loans": loans,
                                "relending_principal": wan(relending), "subsidy": wan(subsidy),
                                **{f"subsidy_{name}": wan(value) for name, value in zip(
                                    ("claimed", "approved", "paid", "clawed_back"), claims,
                                    strict=True)}}
    assert n > 0 and loans > 0  # the generated world reaches every stage


def test_plan_vs_actual_per_industry_and_year(world):
    app, cast = world
    with app.app_context():
        report = reports.summary(cast.user("hlj_miit"), None, None)
    plan = {(i, y): (u, wan(v)) for i, y, u, v in sql(
        app, "SELECT industry, year, equipment_units, investment_yuan FROM plan_entries "
             "WHERE jurisdiction_code = '230000'")}
    declared = {(i, y): wan(v) for i, y, v in sql(app, (
        "SELECT industry, batch_year, SUM(equipment_investment_yuan) FROM projects p "
        f"WHERE p.province_code = '230000' AND p.status IN {IN_LIBRARY} "
        "GROUP BY industry, batch_year"))}
    completed = {(i, y): wan(v) for i, y, v in sql(app, (
        "SELECT industry, batch_year, SUM(equipment_investment_yuan) FROM projects p "
        "WHERE p.province_code = '230000' AND p.status = 'completed' "
        "GROUP BY industry, batch_year"))}
    assert len(report.plan) == len(plan) == 40
    for row in report.plan:
        key = (row["industry"], row["year"])
        assert (row["plan_units"], row["plan_investment"]) == plan[key]
        assert row["declared_investment"] == declared.get(key, 0)
        assert row["completed_investment"] == completed.get(key, 0)
    assert any(row["declared_investment"] for row in report.plan)
    assert [(d["year"], d["column"], d["stated"], d["summed"])
            for d in report.plan_discrepancies] == [
        (2024, "investment", Decimal(1495625), Decimal(1495627)),
        (2025, "equipment_units", Decimal(97738), Decimal(97740)),
        (2026, "equipment_units", Decimal(106392), Decimal(106393)),
        (2027, "investment", Decimal(2373843), Decimal(2373844))]


YEAR = {"sqlite": "CAST(strftime('%Y', completed_on) AS INTEGER)",
        "postgresql": "CAST(EXTRACT(year FROM completed_on) AS INTEGER)"}
ACCEPTED = "('commitment_filing','financing_matchmaking','lead_bank_designated','completed')"


def test_every_target_with_its_trajectory_from_actuals(world, backend):
    """Each figure heilongjiang's and luoyang's 一 sets, year by year 2024–2027 against its
    line, measured on actuals: verified completions' equipment investment by year of
    completion (growth, on the baseline the agency entered with its source); projects in the
    library by batch year (luoyang's 300 a year). Figures the library has no data for say
    so rather than show 0. Every expected number is computed here from the rows."""
    app, cast = world
    api = cast.api(app.test_client(), "hlj_miit")
    targets = api.get("/stats/summary").json["targets"]
    assert targets["document"] == "黑龙江省推动工业领域设备更新行动方案"
    named = {t["name"]: t for t in targets["targets"]}
    assert set(named) == {"equipment_investment_growth", "digital_rd_tools", "cnc_key_processes"}
    growth = named["equipment_investment_growth"]
    assert (growth["value"], growth["year"], growth["baseline_year"]) == ("0.30", 2027, 2023)
    assert growth["baseline"] is None and growth["years"] == []  # no baseline entered yet
    for name in ("digital_rd_tools", "cnc_key_processes"):
        assert not named[name]["measured"] and named[name]["years"] == []

    with app.app_context():
        reports.save_baseline(cast.user("hlj_miit"), "230000", 2023, Decimal("1000000"),
                              "黑龙江统计年鉴2024")
    growth = {t["name"]: t for t in api.get("/stats/summary").json["targets"]["targets"]}[
        "equipment_investment_growth"]
    actual = dict(sql(app, f"SELECT {YEAR[backend[0]]}, sum(actual_equipment_investment_yuan) "
                           "FROM projects WHERE status = 'completed' AND province_code = '230000' "
                           f"GROUP BY {YEAR[backend[0]]}"))
    assert actual  # the generated library has verified completions
    expected = [{"year": y, "line": f"{1000000 + 300000 * (y - 2023) / 4:.4f}",
                 "actual": str(wan(actual.get(y))),
                 "growth": str((wan(actual.get(y)) / 1000000 - 1).quantize(Decimal("0.0001")))}
                for y in range(2024, 2028)]
    assert [{k: str(v) for k, v in row.items()} for row in growth["years"]] == [
        {k: str(v) for k, v in row.items()} for row in expected]
    assert growth["baseline_source"] == "黑龙江统计年鉴2024"

    luoyang = cast.api(app.test_client(), "admin").get("/stats/summary",
                                                        jurisdiction="410300").json["targets"]
    named = {t["name"]: t for t in luoyang["targets"]}
    assert set(named) >= {"major_projects_per_year", "smart_factories", "green_factories",
                          "robot_substitution", "equipment_investment_growth"}
    counted = dict(sql(app, "SELECT batch_year, count(*) FROM projects WHERE city_code = "
                            f"'410300' AND status IN {ACCEPTED} GROUP BY batch_year"))
    assert named["major_projects_per_year"]["years"] == [
        {"year": y, "line": "300", "actual": counted.get(y, 0)} for y in range(2024, 2028)]
    for name in ("smart_factories", "green_factories", "robot_substitution"):
        # counted by the accepting agency's designations (none in this world)
        assert named[name]["measured"] and named[name]["actual"] == 0
    assert cast.api(app.test_client(), "hlj_miit").get(
        "/stats/summary", jurisdiction="410300").status_code == 403  # not its jurisdiction


def test_targets_on_the_dashboard_say_where_data_is_missing(world):
    app, _cast = world
    page = signed_in(app, "hlj_miit").get("/dashboard").get_data(as_text=True)
    assert "《黑龙江省推动工业领域设备更新行动方案》目标" in page
    assert "项目库暂无该指标的数据来源" in page  # 数字化研发设计工具普及率: no data here
    assert "尚无基期数据" in page


def test_plan_import_refuses_a_malformed_file_whole(clean_app):
    good = PLAN.read_text(encoding="utf-8")
    broken = {
        "missing column": good.replace("equipment_units,", ""),
        "text in a number cell": good.replace("航空航天,2025,125,184825", "航空航天,2025,一百二十五,184825"),
        "unknown industry": good.replace("医药,2026", "玄学,2026"),
    }
    expected = {"missing column": "row 1, column equipment_units",
                "text in a number cell": "row 3, column equipment_units",
                "unknown industry": "row 32, column industry"}
    with clean_app.app_context(), force_locale("en"):
        for case, content in broken.items():
            with pytest.raises(Invalid) as refused:
                import_plan(content, "230000", "bad.csv")
            assert any(expected[case] in reason for reason in refused.value.reasons), (
                case, refused.value.reasons)
            assert db.session.scalar(text("SELECT COUNT(*) FROM plan_entries")) == 0


def test_plan_import_command_reports_the_discrepancies(runner):
    result = runner.invoke(args=["plan", "import", str(PLAN)])
    assert result.exit_code == 0, result.output
    assert "imported 40 rows for 230000" in result.output
    assert "2024: stated total investment (万元) 1,495,625 differs from the sum of the rows " \
           "1,495,627" in result.output
    assert "2025: stated total units 97,738 differs from the sum of the rows 97,740" \
        in result.output


def test_exported_workbook_matches_the_filtered_list(world):
    app, cast = world
    client = signed_in(app, "hlj_miit")
    response = client.get("/projects/export.xlsx?year=2026&status=completed")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    covers, header, body, total = rows[0], rows[1], rows[2:-1], rows[-1]
    assert covers[0] == "黑龙江省 · 2026 年度批次 · 阶段：已竣工"
    assert header[0] == "项目代码" and "统一社会信用代码" in header and "主办行" in header
    expected = sql(app, ("SELECT project_code, total_investment_yuan FROM projects "
                         "WHERE province_code = '230000' AND batch_year = 2026 "
                         "AND status = 'completed' ORDER BY id DESC"))
    assert [(r[0], Decimal(str(r[7]))) for r in body] == [(c, wan(t)) for c, t in expected]
    assert all(isinstance(r[7], int | float) for r in body)  # numbers as numbers
    assert Decimal(str(total[7])) == sum((wan(t) for _c, t in expected), Decimal(0))
    summary = list(book.worksheets[1].iter_rows(values_only=True))
    assert summary[-1][1] == len(expected)
    csv_text = client.get("/projects/export.csv?year=2026&status=completed").data.decode("utf-8-sig")
    assert len(csv_text.strip().splitlines()) == len(expected) + 1


def _import_book(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append([header for _key, header in imports.COLUMNS])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.slow
def test_import_of_2000_rows_with_3_bad_reports_exactly_those(clean_app):
    cast = Cast(clean_app)
    cast.agency("suzhou_miit", "miit", "320500")
    cast.enterprise("ent_a")
    with clean_app.app_context():
        credit = cast.user("ent_a").organization.credit_code
    good = ["", "项目", "320506", "吴中大道1号", "高端装备", "先进设备更新", 2026, "更新设备", 5000,
            4600, 4000, 800, 3000, "否", "2026-03-01", "2026-12-31", 2000, 36, "购置设备", None,
            "数控机床", 2, 300, 2]
    rows = []
    for i in range(2000):
        row = list(good)
        row[0], row[1], row[19] = credit, f"导入项目{i:04d}", f"2603-320506-07-02-{i:06d}"
        rows.append(row)
    rows[10][8] = "五千"  # text in an amount: spreadsheet row 12
    rows[500][2] = "999999"  # unknown county: row 502
    rows[1500][0] = "91320506MA0000000X"  # unregistered enterprise: row 1502
    with clean_app.app_context():
        job = _imported(cast.user("suzhou_miit"), _import_book(rows), "2000.xlsx")
        assert job.status == "failed" and job.total == 2000
        assert sorted((e["row"], e["column"]) for e in job.errors) == [
            (12, "总投资"), (502, "建设地点代码"), (1502, "统一社会信用代码")]
        assert db.session.scalar(select(func.count()).select_from(Project)) == 0

        fixed = rows[:10] + rows[11:500] + rows[501:1500] + rows[1501:]
        job = _imported(cast.user("suzhou_miit"), _import_book(fixed[:200]), "200.xlsx")
        assert job.status == "done" and job.created == 200
        assert db.session.scalar(select(func.count()).select_from(Project)) == 200
        assert db.session.scalar(select(func.count()).select_from(Job)) == 2


def _imported(user, data: bytes, filename: str) -> Job:
    """The import's job once it has run (the test app runs jobs at once, in the caller)."""
    job = import_jobs.start_import(user, data, filename)
    return db.session.get(Job, job.id, populate_existing=True)


def test_import_page_and_template(clean_app):
    cast = Cast(clean_app)
    cast.agency("suzhou_miit", "miit", "320500")
    client = signed_in(clean_app, "suzhou_miit")
    template = client.get("/imports/template.xlsx")
    header = next(load_workbook(io.BytesIO(template.data)).worksheets[0].iter_rows(
        values_only=True))
    assert list(header) == [h for _k, h in imports.COLUMNS]
    assert signed_in(clean_app, cast.enterprise("ent_x")).get("/imports").status_code == 403
    with clean_app.app_context():
        assert db.session.scalar(select(User).where(User.username == "ent_x"))


def test_dashboard_screenshot(world, browser, live_server, artifacts, backend):
    app, cast = world
    with app.app_context():
        reports.save_baseline(cast.user("hlj_miit"), "230000", 2023, Decimal("1200000"))
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.goto(live_server + "/login")
    page.fill("#username", "hlj_miit")
    page.fill("#password", "correct horse battery")
    page.click("form button[type=submit]")
    page.goto(live_server + "/dashboard?year=2026")
    assert page.locator("svg.chart").count() >= 3
    assert page.locator("#plan tbody tr").count() == 10
    page.screenshot(path=os.path.join(artifacts, f"{backend[0]}-dashboard.png"), full_page=True)
    page.close()
