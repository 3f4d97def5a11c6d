"""The monthly bulletin (通报): per region one level down, the figures equal a recount of what
the test itself did — on the page, in the Excel file, for the city and for its province."""

import io
from datetime import timedelta
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import select

from app.accounts.operations import create_user, system_user
from app.extensions import db
from app.models import Project, User, china_today
from app.projects.operations import create_project
from app.review import progress
from app.rules.project_input import ProjectCreate
from app.workflow import workflows
from tests.helpers import PASSWORD, Cast, project_payload
from tests.test_subsidy_routing import World, area_world
from tests.web import signed_in

FILED = ["submit", "accept", "sign_commitment", "file"]

# name, county, total investment, started, investment completed, what befell it
SCENARIO = [
    ("吴中数控改造", "320506", "5000", True, "1200", None),
    ("吴中未开工项目", "320506", "3000", False, "0", None),
    ("吴中停滞项目", "320506", "4000", False, None, "warned"),
    ("昆山智能产线", "320583", "8000", True, "2000.5", None),
    ("昆山退库项目", "320583", "2000", False, None, "exited"),
]


def build(app, cast) -> None:
    with app.app_context():
        today, system = china_today(), system_user()
        users = {n: cast.user(n) for n in ("ent506", "ent583", "miit", "ndrc")}
        for i, (name, county, total, started, invested, fate) in enumerate(SCENARIO):
            ent = users["ent506" if county == "320506" else "ent583"]
            project = create_project(ent, ProjectCreate.model_validate(project_payload(
                name=name, jurisdiction=county, total_investment=total,
                fixed_asset_investment=total, equipment_investment=str(int(total) // 2),
                retired_equipment_value="100", financing_need="0",
                project_code=f"2612-{county}-07-02-{i:06d}"), strict=False))
            for trigger, who, data in (("submit", ent, None), ("accept", users["miit"], None),
                                       ("sign_commitment", ent, {"commitment_accepted": True}),
                                       ("file", users["ndrc"], {"filing_number": f"备{i}"})):
                workflows().fire(project, trigger, who, version=project.version, data=data)
            if invested is not None:
                data = {"month": today.replace(day=1), "investment_completed": invested,
                        "percent_complete": 10}
                if started:
                    data["actual_start_on"] = today
                workflows().fire(project, "report_progress", ent, version=project.version,
                                 data=data, today=today)
            if fate:
                assert progress.warn(db.session.get(Project, project.id), "stalled", system,
                                     today)
            if fate == "exited":
                project = db.session.get(Project, project.id)
                workflows().fire(project, "exit_library", users["miit"],
                                 version=project.version, comment="停滞退库。", today=today)
        db.session.remove()


def recount(rows) -> dict:
    """The expected figures, counted from the scenario alone."""
    found = {"projects": 0, "started": 0, "started_in_month": 0, "planned": Decimal(0),
             "completed": Decimal(0), "warned": 0, "exited": 0}
    for _name, _county, total, started, invested, fate in rows:
        if fate == "exited":
            found["exited"] += 1
            continue
        found["projects"] += 1
        found["started"] += started
        found["started_in_month"] += started
        found["planned"] += Decimal(total)
        found["completed"] += Decimal(invested or 0)
        found["warned"] += fate == "warned"
    return found


def figures(values) -> dict:
    _name, projects, started, in_month, planned, completed, rate, warned, exited, claimed, \
        paid = values
    assert (claimed, paid) == (0, 0)  # the national document runs no subsidy programme
    return {"projects": int(projects), "started": int(started), "started_in_month": int(in_month),
            "planned": Decimal(str(planned).replace(",", "")),
            "completed": Decimal(str(completed).replace(",", "")), "warned": int(warned),
            "exited": int(exited)}


def test_bulletin_equals_a_recount_for_city_and_province(clean_app):
    cast = Cast(clean_app)
    cast.enterprise("ent506", "320506")
    cast.enterprise("ent583", "320583")
    cast.agency("miit", "miit", "320500")
    cast.agency("ndrc", "ndrc", "320500")
    cast.agency("province", "miit", "320000")
    cast.agency("county", "miit", "320506")
    build(clean_app, cast)
    month = china_today().strftime("%Y-%m")
    by_county = {c: recount([r for r in SCENARIO if r[1] == c]) for c in ("320506", "320583")}
    everything = recount(SCENARIO)

    city = signed_in(clean_app, "miit")
    workbook = city.get(f"/bulletin.xlsx?month={month}")
    assert workbook.status_code == 200
    rows = list(load_workbook(io.BytesIO(workbook.data)).worksheets[0].iter_rows(
        values_only=True))
    assert month in rows[0][0] and rows[1][0] == "地区"
    assert [figures(r) for r in rows[2:]] == [by_county["320506"], by_county["320583"],
                                              everything]
    assert rows[2][0] == "吴中区" and rows[-1][0] == "合计"
    page = city.get(f"/bulletin?month={month}").get_data(as_text=True)
    assert "吴中停滞项目" in page and "昆山退库项目" not in page

    province = signed_in(clean_app, "province")
    rows = list(load_workbook(io.BytesIO(province.get(
        f"/bulletin.xlsx?month={month}").data)).worksheets[0].iter_rows(values_only=True))
    assert [figures(r) for r in rows[2:]] == [everything, everything]  # 苏州市, and the total
    assert rows[2][0] == "苏州市"

    county = signed_in(clean_app, "county")
    assert county.get(f"/bulletin?month={month}&jurisdiction=320500").status_code in (403, 422)
    rows = list(load_workbook(io.BytesIO(county.get(
        f"/bulletin.xlsx?month={month}").data)).worksheets[0].iter_rows(values_only=True))
    assert [figures(r) for r in rows[2:-1]] == [by_county["320506"]]


# -- subsidy claimed and paid: liaocheng's 市级设备更新奖补 ------------------------------------

def test_bulletin_subsidy_columns_equal_a_recount_of_the_claims(clean_app, client):
    pid, tokens, seeing = area_world(clean_app, "liaocheng", FILED)
    first = World(client, pid, tokens, seeing)
    second = World(client, area_world(clean_app, "liaocheng", FILED, name="轴承热处理线改造项目")[0],
                   tokens, seeing)
    ent, treasury, payer = "liaocheng-enterprise1", "liaocheng-treasury", "liaocheng-treasury-2"
    ledger = {"claimed": Decimal(0), "paid": Decimal(0)}  # what this test does, counted here

    assert first.fire(ent, "claim_subsidy", amount="30").status_code == 200
    ledger["claimed"] += Decimal(30)
    claim = first.claim(ent)["id"]
    assert first.fire(treasury, "approve_subsidy", claim=claim).status_code == 200
    paid = first.fire(payer, "record_payout", claim=claim, amount="30",
                      paid_on=china_today().isoformat(), voucher="聊财奖-1")
    assert paid.status_code == 200, paid.json
    ledger["paid"] += Decimal(30)
    assert second.fire(ent, "claim_subsidy", amount="20").status_code == 200
    claim = second.claim(ent)["id"]
    assert second.fire(treasury, "return_claim", "金额有误", claim=claim).status_code == 200
    assert second.fire(ent, "claim_subsidy", "已更正", amount="15").status_code == 200
    ledger["claimed"] += Decimal(15)  # the returned 20 counts nowhere

    with clean_app.app_context():
        org = db.session.scalar(select(User).where(User.username == "liaocheng-miit")).organization
        create_user(username="lc_city", password=PASSWORD, organization=org,
                    display_name="聊城市工信局科员")
    city = signed_in(clean_app, "lc_city")
    month = china_today().strftime("%Y-%m")
    rows = list(load_workbook(io.BytesIO(city.get(f"/bulletin.xlsx?month={month}").data))
                .worksheets[0].iter_rows(values_only=True))
    assert rows[1][-2:] == ("贴息奖补申领（万元）", "贴息奖补拨付（万元）")
    [(region, *_rest, claimed, paid), total] = rows[2:]
    assert region == "东昌府区"
    assert (Decimal(str(claimed)), Decimal(str(paid))) == (ledger["claimed"], ledger["paid"])
    assert (Decimal(str(total[-2])), Decimal(str(total[-1]))) == (ledger["claimed"], ledger["paid"])
    page = city.get(f"/bulletin?month={month}").get_data(as_text=True)
    assert '<td class="num">45</td><td class="num">30</td></tr>' in page
    # a month before any claim was filed shows none
    earlier = (china_today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    rows = list(load_workbook(io.BytesIO(city.get(f"/bulletin.xlsx?month={earlier}").data))
                .worksheets[0].iter_rows(values_only=True))
    assert all(r[-2:] == (0, 0) for r in rows[2:])
