"""Demo data: the five jurisdictions of the seed documents, their agencies, banks, enterprises
and projects in every stage, each walked there through the engine so its trail is real.

Idempotent: what exists (by name) is left as it is.
"""

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from stdnum.cn import uscc

from .accounts.operations import create_organization, create_user
from .database import unit_of_work
from .extensions import db
from .models import (
    AgencyKind,
    Jurisdiction,
    Level,
    Loan,
    Organization,
    OrgKind,
    Project,
    SubsidyClaim,
    User,
    china_date,
    china_today,
)
from .projects.operations import create_project, take_step
from .rules.guards import PROCEDURE_OF_ROLE, procedure_needed
from .rules.project_input import ProjectCreate
from .workflow import workflows

DEMO_PASSWORD = "jigai-demo"
DATA = Path(__file__).resolve().parent / "data"


def load_jurisdictions(path: Path = DATA / "jurisdictions.csv") -> int:
    """Insert the jurisdictions of a GB/T 2260 table not yet present; returns how many."""
    added = 0
    with unit_of_work(), path.open(encoding="utf-8") as handle:
        known = set(db.session.scalars(select(Jurisdiction.code)))
        for row in csv.DictReader(handle):  # parents precede children in the file
            if row["code"] not in known:
                db.session.add(Jurisdiction(code=row["code"], name=row["name"],
                                            level=Level(row["level"]),
                                            parent_code=row["parent"] or None))
                db.session.flush()
                added += 1
    return added


@dataclass
class Area:
    slug: str
    code: str  # where its agencies sit
    county: str  # where its demo projects are
    agencies: dict[str, str]  # agency kind -> organisation name
    banks: list[str]
    enterprises: list[str]
    county_agency: str | None = None  # the county-level reviewer, where the document has one
    industries: list[str] = field(default_factory=lambda: ["高端装备", "新材料"])


AREAS = [
    Area("national", "320500", "320506", {
        "miit": "苏州市工业和信息化局", "ndrc": "苏州市发展和改革委员会",
        "approval": "苏州市行政审批局", "land": "苏州市自然资源和规划局",
        "env": "苏州市生态环境局", "pboc": "中国人民银行苏州市分行",
        "finance": "苏州市地方金融管理局", "treasury": "苏州市财政局"},
        ["中国工商银行苏州分行", "中国建设银行苏州分行", "江苏银行苏州分行"],
        ["苏州精工数控机床有限公司", "苏州新材科技股份有限公司"],
        county_agency="苏州市吴中区工业和信息化局", industries=["高端装备", "电子信息"]),
    Area("heilongjiang", "230000", "230110", {
        "miit": "黑龙江省工业和信息化厅", "ndrc": "黑龙江省发展和改革委员会",
        "approval": "黑龙江省营商环境建设监督局", "land": "黑龙江省自然资源厅",
        "env": "黑龙江省生态环境厅", "pboc": "中国人民银行黑龙江省分行",
        "finance": "国家金融监督管理总局黑龙江监管局", "treasury": "黑龙江省财政厅"},
        ["中国工商银行黑龙江省分行", "中国农业银行黑龙江省分行", "哈尔滨银行"],
        ["哈尔滨东安重型装备有限公司", "哈尔滨香坊绿色食品机械有限公司"],
        county_agency="哈尔滨市香坊区工业和信息化局", industries=["高端装备", "食品"]),
    Area("shanxi", "140000", "140105", {
        "miit": "山西省工业和信息化厅", "ndrc": "山西省发展和改革委员会",
        "approval": "山西省审批服务管理局", "land": "山西省自然资源厅",
        "env": "山西省生态环境厅", "pboc": "中国人民银行山西省分行",
        "finance": "山西省地方金融管理局", "treasury": "山西省财政厅", "energy": "山西省能源局"},
        ["中国银行山西省分行", "交通银行山西省分行", "晋商银行"],
        ["太原重型数控装备有限公司", "山西小店新能源材料有限公司"],
        county_agency="太原市小店区工业和信息化局", industries=["装备制造", "新材料"]),
    Area("liaocheng", "371500", "371502", {
        "miit": "聊城市工业和信息化局", "ndrc": "聊城市发展和改革委员会",
        "approval": "聊城市行政审批服务局", "land": "聊城市自然资源和规划局",
        "env": "聊城市生态环境局", "pboc": "中国人民银行聊城市分行",
        "finance": "聊城市地方金融监督管理局", "treasury": "聊城市财政局"},
        ["中国建设银行聊城分行", "中国农业银行聊城分行", "齐鲁银行聊城分行"],
        ["聊城东昌轴承制造有限公司", "聊城金鼎有色金属有限公司"],
        county_agency="聊城市东昌府区工业和信息化局", industries=["轴承", "有色金属"]),
    Area("luoyang", "410300", "410305", {
        "miit": "洛阳市工业和信息化局", "ndrc": "洛阳市发展和改革委员会",
        "approval": "洛阳市政务服务和大数据管理局", "land": "洛阳市自然资源和规划局",
        "env": "洛阳市生态环境局", "pboc": "中国人民银行洛阳市分行",
        "finance": "洛阳市金融发展服务中心", "treasury": "洛阳市财政局"},
        ["中国工商银行洛阳分行", "中原银行洛阳分行", "洛阳银行"],
        ["洛阳涧西矿山装备有限公司", "洛阳精密轴承科技有限公司"],
        county_agency="洛阳市涧西区工业和信息化局", industries=["高端装备", "新材料"]),
]


@dataclass
class Plan:
    """A demo project: what it is and the steps that bring it to its stage."""

    name: str
    steps: list[str]
    financing: bool = True
    eligible: bool = True
    comment: str | None = None
    # the enterprise's monthly report for the filing month (月调度): percent complete,
    # whether it has started, a problem needing the agency's help
    progress: dict | None = None
    signatures: int | None = None  # of a joint step (会签), only the first agencies sign


PLANS = [
    Plan("数控机床更新改造项目", ["submit", "accept", "sign_commitment", "file", "whitelist",
                                "express_interest", "claim_lead_bank", "designate_lead_bank",
                                "approve_credit", "sign_contract", "record_loan",
                                "confirm_refinancing", "report_completion", "verify_completion"]),
    Plan("智能工厂数字化改造项目", ["submit", "accept", "sign_commitment", "file", "whitelist",
                                 "express_interest", "approve_credit", "claim_lead_bank",
                                 "designate_lead_bank", "sign_contract", "record_loan"],
         progress={"percent_complete": 35, "started": True}),
    # heilongjiang: the people's bank branch has signed the designation, the regulator not yet
    Plan("余热回收节能改造项目", ["submit", "accept", "sign_commitment", "file", "whitelist",
                               "express_interest", "claim_lead_bank", "designate_lead_bank"],
         signatures=1),
    Plan("老旧装置本质安全改造项目", ["submit", "accept", "sign_commitment", "file"],
         progress={"percent_complete": 0, "started": False,
                   "problems": "进口检测设备报关周期较长，影响安装进度，请协调加快通关。"}),
    Plan("生产线自动化升级项目", ["submit", "accept"]),
    Plan("空压机能效提升项目", ["submit", "accept", "sign_commitment", "file",
                              "report_completion"], financing=False),
    Plan("铸造车间绿色化改造项目", ["submit", "accept", "file", "whitelist"], eligible=False),
    Plan("涂装线环保改造项目", ["submit"]),
    Plan("车间设备更新项目", ["submit", "return"], comment="设备清单缺少能效等级，请补充后重新提交。"),
    Plan("新厂区扩建项目", ["submit", "reject"], eligible=False,
         comment="新增用地扩建项目不属于本批次设备更新支持范围。"),
    Plan("检测设备更新项目", []),
]


def credit_code(region: str, serial: int) -> str:
    first17 = f"91{region}MA{serial:07d}"
    return first17 + uscc.calc_check_digit(first17)


def _org(name, **kwargs) -> Organization:
    existing = db.session.scalar(select(Organization).where(Organization.name == name))
    return existing or create_organization(name=name, **kwargs)


def _user(username, org, display_name) -> User:
    existing = db.session.scalar(select(User).where(User.username == username))
    return existing or create_user(username=username, password=DEMO_PASSWORD, organization=org,
                                   display_name=display_name, email=f"{username}@demo.jigai.local",
                                   weak_password_ok=True)  # the documented demo password


def seed(today: date | None = None) -> list[tuple[str, str, str]]:
    """Create the demo world; returns (username, role, organisation) for every demo login."""
    today = today or china_today()
    load_jurisdictions()
    logins = []
    for area in AREAS:
        users = _seed_area(area, logins)
        for enterprise_user in (users["enterprise1"], users["enterprise2"]):
            for index, plan in enumerate(PLANS):
                _seed_project(area, users, enterprise_user, plan, index, today)
        _seed_claims(area, users, today)
    admin_org = _org("技改项目库运营中心", kind=OrgKind.OPERATOR, jurisdiction_code="000000")
    admin = _user("admin", admin_org, "系统管理员")
    if not admin.is_admin:
        with unit_of_work():
            admin.is_admin = True
    logins.append(("admin", "admin", admin_org.name))
    return logins


def _seed_area(area: Area, logins: list) -> dict[str, User]:
    definition = workflows().resolve(area.county, china_today())
    users: dict[str, User] = {}
    kinds = {spec.agency_kind for spec in definition.transitions if spec.agency_kind}
    county_level = any(Level.COUNTY in spec.levels for spec in definition.transitions)
    for kind in sorted(kinds):
        org = _org(area.agencies[kind], kind=OrgKind.AGENCY, agency_kind=AgencyKind(kind),
                   jurisdiction_code=area.code)
        users[kind] = _user(f"{area.slug}-{kind}", org, f"{org.name}经办人")
        # a second clerk, for steps another person must check (maker-checker)
        users[f"{kind}-checker"] = _user(f"{area.slug}-{kind}-2", org, f"{org.name}复核人")
    if county_level and area.county_agency:
        org = _org(area.county_agency, kind=OrgKind.AGENCY, agency_kind=AgencyKind.MIIT,
                   jurisdiction_code=area.county)
        users["county"] = _user(f"{area.slug}-county", org, f"{org.name}经办人")
    for number, name in enumerate(area.banks, start=1):
        org = _org(name, kind=OrgKind.BANK, jurisdiction_code=area.code, serves=[area.code])
        users[f"bank{number}"] = _user(f"{area.slug}-bank{number}", org, f"{name}客户经理")
    for number, name in enumerate(area.enterprises, start=1):
        org = _org(name, kind=OrgKind.ENTERPRISE, jurisdiction_code=area.county,
                   credit_code=credit_code(area.county, number + 100 * AREAS.index(area)))
        users[f"enterprise{number}"] = _user(f"{area.slug}-enterprise{number}", org,
                                             f"{name}财务经理")
    for user in users.values():
        logins.append((user.username, user.role, user.organization.name))
    return users


def _seed_project(area, users, enterprise_user, plan: Plan, index: int,
                  today: date) -> Project | None:
    """The plan's project of the enterprise, walked to its stage (None: it exists already)."""
    enterprise = enterprise_user.organization
    name = f"{enterprise.name.removesuffix('有限公司').removesuffix('股份')}{plan.name}"
    if db.session.scalar(select(Project.id).where(Project.name == name)):
        return None
    total = Decimal(3000 + 700 * index)
    equipment = (total * Decimal("0.7") if plan.eligible else total * Decimal("0.3"))
    serial = 100000 + AREAS.index(area) * 1000 + index * 10 + int(enterprise_user.username[-1])
    payload = ProjectCreate.model_validate({
        "name": name, "jurisdiction": area.county, "industry": area.industries[index % 2],
        "task": ["advanced_equipment", "digital_transformation", "green_equipment",
                 "intrinsic_safety", "supply_capacity"][index % 5],
        "batch_year": today.year,
        "content": f"更新改造{plan.name.removesuffix('项目')}相关生产设备及配套软件。",
        "total_investment": total, "fixed_asset_investment": total * Decimal("0.9"),
        "equipment_investment": equipment, "retired_equipment_value": total * Decimal("0.15"),
        "annual_investment": total * Decimal("0.6"), "new_land": not plan.eligible,
        "planned_start": today - timedelta(days=90), "planned_end": today + timedelta(days=270),
        "financing_need": total * Decimal("0.4") if plan.financing else Decimal(0),
        "financing_term_months": 36, "financing_purpose": "购置设备及配套软件",
        "project_code": f"{today:%y%m}-{area.county}-07-02-{serial:06d}",
        "address": f"{enterprise.jurisdiction.name}工业园区{index + 1}号",
        "contact_name": ("王建国", "李明", "张伟", "刘洋", "陈静")[index % 5],
        "contact_phone": f"1391234{serial % 10000:04d}",
        "equipment": [
            {"kind": "new", "name": "五轴联动数控加工中心", "model": "VMC-850", "quantity": 2,
             "unit_price": (equipment / 4).quantize(Decimal("0.01")), "energy_grade": 2},
            {"kind": "new", "name": "工业机器人工作站", "model": "IRB 6700", "quantity": 4,
             "unit_price": (equipment / 8).quantize(Decimal("0.01")), "energy_grade": 1},
            {"kind": "old", "name": "普通卧式车床", "quantity": 6, "years_in_service": 14},
        ],
    }, strict=False)
    project = create_project(enterprise_user, payload)
    walk(project, plan.steps, users, comment=plan.comment, today=today,
         signatures=plan.signatures)
    if plan.progress and enterprise_user is users["enterprise1"]:
        _report_progress(project, plan.progress, enterprise_user, today)
    return project


def _report_progress(project: Project, progress: dict, enterprise_user: User, today: date):
    """The filing month's report (月调度), where that month has begun by `today`."""
    month = china_date(project.filed_at).replace(day=1) if project.filed_at else None
    if month is None or month > today:
        return
    share = Decimal(progress["percent_complete"]) / 100
    data = {"month": month.isoformat(), "percent_complete": progress["percent_complete"],
            "investment_completed": str((project.total_investment * share).quantize(
                Decimal("0.0001"))), "problems": progress.get("problems")}
    if progress["started"]:
        data["actual_start_on"] = max(month, today - timedelta(days=20)).isoformat()
    take_step(enterprise_user, project, "report_progress", version=project.version, data=data,
              today=today)


# Fiscal support claims (贴息、奖补) where the programme's numbers need no agency setting: luoyang's
# interest subsidy on relending loans runs on 财金〔2024〕54号's practice parameters, liaocheng's
# 奖补 on the amount applied for. Heilongjiang's and shanxi's rates are their agencies' own
# settings, left unset: their settings pages say claims wait for them.
FISCAL = {
    "luoyang": Plan("高端轴承产线再贷款技术改造项目", [
        "submit", "accept", "sign_commitment", "file", "whitelist", "express_interest",
        "approve_credit", "sign_contract", "record_loan", "confirm_refinancing"]),
    "liaocheng": Plan("高效节能电机替换项目", ["submit", "accept", "sign_commitment", "file"],
                      financing=False),
}


def _quarter(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _seed_claims(area: Area, users: dict[str, User], today: date) -> None:
    """A few claims in different states, each through the engine: luoyang's bank claims the
    two quarters before this one (the earlier approved, the later awaiting 市财政局);
    liaocheng's enterprises claim 奖补 (one paid, one returned for a missing invoice)."""
    plan = FISCAL.get(area.slug)
    if plan is None:
        return
    if area.slug == "luoyang":
        this_quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        lent = this_quarter - timedelta(days=150)  # in the quarter before the last
        project = _seed_project(area, users, users["enterprise1"], plan, 11, lent)
        if project is None:
            return
        last = this_quarter - timedelta(days=1)
        before = date(last.year, 3 * ((last.month - 1) // 3) + 1, 1) - timedelta(days=1)
        for period in (_quarter(before), _quarter(last)):
            _decide(project, "claim_subsidy", users, today, period=period)
        _decide(project, "approve_subsidy", users, today, claim=_claim(project, 0))
        return
    for number, (amount, fate) in enumerate((("80", "paid"), ("60", "returned")), start=1):
        project = _seed_project(area, users, users[f"enterprise{number}"], plan, 11, today)
        if project is None:
            continue
        _decide(project, "claim_subsidy", users, today, amount=amount)
        if fate == "returned":
            _decide(project, "return_claim", users, today, "请补充设备购置发票及付款凭证。",
                    claim=_claim(project, 0))
            continue
        _decide(project, "approve_subsidy", users, today, claim=_claim(project, 0))
        _decide(project, "record_payout", users, today, claim=_claim(project, 0), amount=amount,
                paid_on=today.isoformat(), voucher=f"聊财奖{today.year}-{project.id:04d}")


def _claim(project: Project, index: int) -> str:
    return str(db.session.scalars(select(SubsidyClaim.public_id).where(
        SubsidyClaim.project_id == project.id).order_by(SubsidyClaim.id)).all()[index])


def _decide(project: Project, trigger: str, users: dict[str, User], today: date,
            comment: str | None = None, **data) -> None:
    """Fire a claim's step by the demo user the definition routes it to (another officer
    of the agency where the step must be checked by someone else)."""
    definition = workflows().for_project(project, today)
    spec = definition.transitions_for(trigger)[0]
    actor = actor_for(spec.role, project, users, spec.levels, checker=bool(spec.distinct_from))
    take_step(actor, project, trigger, version=project.version, comment=comment, data=data,
              today=today)


def step_data(trigger: str, project: Project, today: date) -> dict:
    """Plausible inputs for a step, for the demo and for tests that walk a whole path."""
    return {
        "sign_commitment": {"commitment_accepted": True},
        "file": {"filing_number": f"备案-{project.project_code or project.id}"},
        "whitelist": {"list": "relending", "batch": f"{today.year}-1"},
        "approve_credit": {"amount": str(project.financing_need or 1),
                           "approved_on": today.isoformat()},
        "sign_contract": {"amount": str(project.financing_need or 1),
                          "signed_on": today.isoformat(), "contract_number": f"借{project.id:06d}",
                          "term_months": project.financing_term_months or 36},
        "record_loan": {"amount": str((project.financing_need or Decimal(1)) / 2),
                        "drawdown_date": today.isoformat(),
                        "supplier_paid_date": today.isoformat()},
        "confirm_refinancing": {"loan": _last_loan(project), "refinanced_on": today.isoformat()},
        "report_completion": {"actual_total_investment": str(project.total_investment),
                              "actual_equipment_investment": str(project.equipment_investment),
                              "completed_on": today.isoformat()},
        "verify_completion": {"checked_total_investment": str(project.total_investment),
                              "checked_equipment_investment": str(project.equipment_investment),
                              "equipment_delivered": True, "retired_disposed": True},
        "record_opinion": {"opinion": "approve", "reference": f"前期-{project.id:06d}",
                           "decided_on": today.isoformat()},
    }.get(trigger, {})


def _last_loan(project: Project) -> str | None:
    loan_id = db.session.scalar(select(Loan.public_id).where(Loan.project_id == project.id)
                                .order_by(Loan.id.desc()))
    return str(loan_id) if loan_id else None


def actor_for(role: str, project: Project, users: dict[str, User], levels=(),
              checker: bool = False) -> User:
    """The demo user who holds `role` for `project`."""
    if role == "enterprise":
        return db.session.scalar(select(User).where(
            User.organization_id == project.enterprise_id).order_by(User.id))
    if role == "bank":
        return users["bank1"]  # the demo's first bank pursues its projects to the end
    if role == "lead_bank":
        return db.session.scalar(select(User).where(
            User.organization_id == project.lead_bank_id).order_by(User.id))
    kind = role.split(":", 1)[1]
    if levels == (Level.COUNTY,):
        return users["county"]
    return users[f"{kind}-checker"] if checker else users[kind]


def walk(project: Project, steps: list[str], users: dict[str, User], *,
         comment: str | None = None, today: date | None = None,
         signatures: int | None = None) -> Project:
    """Fire `steps` in order, each by the demo user holding the role the project's
    definition names; county review and preliminary procedures are inserted where the
    definition asks for them, and steps the definition does not have (a lead-bank claim where
    no agency designates one) are passed over."""
    today = today or china_today()
    engine = workflows()

    def fire(trigger, spec):
        actor = actor_for(spec.role, project, users, spec.levels, checker=bool(spec.distinct_from))
        remark = (comment or "同意。") if spec.agency_kind else None
        take_step(actor, project, trigger, version=project.version, comment=remark,
                  data=step_data(trigger, project, today), today=today)

    for trigger in steps:
        definition = engine.for_project(project, today)
        if trigger in ("accept", "reject") and definition.transitions_for("recommend"):
            fire("recommend", definition.transitions_for("recommend")[0])
        if trigger == "file":
            for spec in definition.transitions_for("record_opinion"):
                if procedure_needed(project, PROCEDURE_OF_ROLE[spec.role], today):
                    fire("record_opinion", spec)
        specs = [s for s in definition.transitions_for(trigger)
                 if project.status.value in s.sources]
        # 会签: every agency the step names signs, each by its own transition
        signers: dict = {}
        for spec in specs:
            if spec.role in specs[0].all_of:
                signers.setdefault(spec.role, spec)
        for spec in [*signers.values()][:signatures] or specs[:1]:
            fire(trigger, spec)
    return project


