"""The library's numbers for a jurisdiction (and everything below it) and a batch year.

Every figure is an aggregate over the project rows and the small fact tables kept beside them
(deadlines, stage times, engagements, loans, plans) — never over the audit trail — so a
dashboard costs the same at a million events as at a thousand.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from ..database import unit_of_work
from ..errors import Forbidden, Invalid
from ..extensions import db
from ..models import (
    Baseline,
    Deadline,
    Engagement,
    EquipmentItem,
    EquipmentKind,
    Jurisdiction,
    Level,
    Loan,
    OrgKind,
    PlanEntry,
    PlanImport,
    Project,
    StageTime,
    Status,
    User,
    china_today,
)
from ..workflow import workflows
from .access import visible_condition, within

ZERO = Decimal(0)
IN_LIBRARY = (Status.DECLARED, Status.COMMITMENT_FILING, Status.FINANCING_MATCHMAKING,
              Status.LEAD_BANK_DESIGNATED, Status.COMPLETED)
CHILD_COLUMN = {Level.NATIONAL: Project.province_code, Level.PROVINCE: Project.city_code,
                Level.CITY: Project.jurisdiction_code}


@dataclass
class Summary:
    scope: Jurisdiction
    year: int | None
    by_stage: dict[str, int] = field(default_factory=dict)
    by_industry: list[dict] = field(default_factory=list)
    by_region: list[dict] = field(default_factory=list)
    totals: dict = field(default_factory=dict)
    financing: dict = field(default_factory=dict)
    stage_days: list[dict] = field(default_factory=list)
    overdue: list[dict] = field(default_factory=list)
    plan: list[dict] = field(default_factory=list)
    plan_discrepancies: list = field(default_factory=list)
    monthly: list[dict] = field(default_factory=list)
    target: dict | None = None


def scope_for(user: User, code: str | None) -> Jurisdiction:
    """The jurisdiction a report covers: the user's own, or one inside it."""
    org = user.organization
    if not (user.is_admin or org.kind in (OrgKind.AGENCY, OrgKind.OPERATOR)):
        raise Forbidden(_("Reports are for agencies."))
    own = org.jurisdiction if org.kind == OrgKind.AGENCY else db.session.get(Jurisdiction,
                                                                               "000000")
    if not code:
        return own
    place = db.session.get(Jurisdiction, code)
    if place is None or not own.contains(place.code):
        raise Invalid(_("Unknown jurisdiction."), fields={"jurisdiction": _("Unknown jurisdiction.")})
    return place


def summary(user: User, code: str | None = None, year: int | None = None,
            today: date | None = None) -> Summary:
    scope = scope_for(user, code)
    today = today or china_today()
    where = [visible_condition(user), within(scope), Project.status.in_(IN_LIBRARY)]
    if year:
        where.append(Project.batch_year == year)
    report = Summary(scope=scope, year=year)
    report.by_stage = {status.value: n for status, n in db.session.execute(
        select(Project.status, func.count()).where(*where).group_by(Project.status))}
    report.by_industry = [
        {"industry": industry or "—", "projects": n, "total_investment": total or ZERO,
         "equipment_investment": equipment or ZERO}
        for industry, n, total, equipment in db.session.execute(
            select(Project.industry, func.count(), func.sum(Project.total_investment),
                   func.sum(Project.equipment_investment))
            .where(*where).group_by(Project.industry).order_by(func.count().desc(),
                                                                Project.industry))]
    report.by_region = _by_region(scope, where)
    n, total, equipment, annual, need = db.session.execute(select(
        func.count(), func.sum(Project.total_investment), func.sum(Project.equipment_investment),
        func.sum(Project.annual_investment), func.sum(Project.financing_need)).where(*where)).one()
    report.totals = {"projects": n, "total_investment": total or ZERO,
                     "equipment_investment": equipment or ZERO, "annual_investment": annual or ZERO}
    report.financing = _financing(where, need or ZERO)
    report.stage_days = _stage_days(where)
    report.overdue = [
        {"role": role, "level": level, "count": count} for role, level, count in db.session.execute(
            select(Deadline.role, Deadline.level, func.count())
            .join(Project, Deadline.project_id == Project.id)
            .where(*where, Deadline.met_at.is_(None), Deadline.due_on < today)
            .group_by(Deadline.role, Deadline.level).order_by(func.count().desc()))]
    report.plan, report.plan_discrepancies = _plan(scope, where, year)
    report.monthly = _monthly(where)
    report.target = _target(scope, where, year)
    return report


def _by_region(scope: Jurisdiction, where) -> list[dict]:
    column = CHILD_COLUMN.get(scope.level)
    if column is None:
        return []
    rows = db.session.execute(select(column, func.count(), func.sum(Project.total_investment))
                              .where(*where).group_by(column).order_by(column)).all()
    names = {j.code: j.name for j in db.session.scalars(
        select(Jurisdiction).where(Jurisdiction.code.in_([r[0] for r in rows])))}
    return [{"code": code, "name": names.get(code, code), "projects": count,
             "total_investment": total or ZERO} for code, count, total in rows]


def _financing(where, need: Decimal) -> dict:
    credit, contract = db.session.execute(
        select(func.sum(Engagement.credit_amount), func.sum(Engagement.contract_amount))
        .join(Project, Engagement.project_id == Project.id).where(*where)).one()
    drawn, relending, subsidy, loans = db.session.execute(
        select(func.sum(Loan.amount), func.sum(Loan.relending_principal), func.sum(Loan.subsidy),
               func.count()).join(Project, Loan.project_id == Project.id).where(*where)).one()
    return {"need": need, "credit": credit or ZERO, "contracted": contract or ZERO,
            "drawn": drawn or ZERO, "loans": loans, "relending_principal": relending or ZERO,
            "subsidy": subsidy or ZERO}


def _stage_days(where) -> list[dict]:
    rows = db.session.execute(
        select(StageTime.status, func.count(), func.avg(StageTime.working_days),
               func.max(StageTime.working_days))
        .join(Project, StageTime.project_id == Project.id)
        .where(*where, StageTime.working_days.is_not(None))
        .group_by(StageTime.status)).all()
    order = [s.value for s in (Status.DECLARED, Status.RETURNED, Status.COMMITMENT_FILING,
                               Status.FINANCING_MATCHMAKING, Status.LEAD_BANK_DESIGNATED)]
    found = {status: (n, avg, longest) for status, n, avg, longest in rows}
    return [{"status": s, "stays": found[s][0],
             "average_days": Decimal(str(found[s][1])).quantize(Decimal("0.1")),
             "longest_days": found[s][2]} for s in order if s in found]


def _plan(scope: Jurisdiction, where, year: int | None):
    """Plan vs declared vs completed per industry and year, where the scope has a plan."""
    query = select(PlanEntry).where(PlanEntry.jurisdiction_code == scope.code)
    if year:
        query = query.where(PlanEntry.year == year)
    plan = {(p.industry, p.year): p for p in db.session.scalars(query)}
    if not plan:
        return [], []
    declared = {(industry, y): equipment or ZERO
                for industry, y, equipment in db.session.execute(
                    select(Project.industry, Project.batch_year,
                           func.sum(Project.equipment_investment))
                    .where(*where).group_by(Project.industry, Project.batch_year))}
    units = {(industry, y): u or 0 for industry, y, u in db.session.execute(
        select(Project.industry, Project.batch_year, func.sum(EquipmentItem.quantity))
        .join(EquipmentItem, and_(EquipmentItem.project_id == Project.id,
                                  EquipmentItem.kind == EquipmentKind.NEW))
        .where(*where).group_by(Project.industry, Project.batch_year))}
    completed = {(industry, y): equipment or ZERO
                 for industry, y, equipment in db.session.execute(
                     select(Project.industry, Project.batch_year,
                            func.sum(Project.equipment_investment))
                     .where(*where, Project.status == Status.COMPLETED)
                     .group_by(Project.industry, Project.batch_year))}
    rows = []
    for (industry, y), entry in sorted(plan.items(), key=lambda kv: (kv[0][1], -kv[1].investment)):
        rows.append({
            "industry": industry, "year": y, "plan_units": entry.equipment_units,
            "plan_investment": entry.investment,
            "declared_units": units.get((industry, y), 0),
            "declared_investment": declared.get((industry, y), ZERO),
            "completed_investment": completed.get((industry, y), ZERO)})
    last = db.session.scalar(select(PlanImport).where(PlanImport.jurisdiction_code == scope.code)
                             .order_by(PlanImport.id.desc()))
    found = [{**d, "stated": Decimal(d["stated"]), "summed": Decimal(d["summed"])}
             for d in (last.discrepancies if last else [])]
    return rows, found


def _monthly(where) -> list[dict]:
    if db.engine.dialect.name == "sqlite":
        month = func.strftime("%Y-%m", Project.declared_at)
    else:
        month = func.to_char(Project.declared_at, "YYYY-MM")
    rows = db.session.execute(select(month, func.count()).where(
        *where, Project.declared_at.is_not(None)).group_by(month).order_by(month)).all()
    return [{"month": m, "declared": n} for m, n in rows[-12:]]


def _target(scope: Jurisdiction, where, year: int | None) -> dict | None:
    """Progress toward the document's growth target, from the baseline the agency entered."""
    definitions = [d for d in workflows().definitions.values()
                   if d.jurisdiction == scope.code and d.target]
    if not definitions:
        return None
    definition = max(definitions, key=lambda d: (d.effective, d.version))
    target = definition.target
    baseline = db.session.scalar(select(Baseline).where(
        Baseline.jurisdiction_code == scope.code, Baseline.year == target["baseline_year"]))
    year = year or china_today().year
    completed = db.session.scalar(select(func.sum(Project.equipment_investment)).where(
        *where, Project.status == Status.COMPLETED, Project.batch_year == year)) or ZERO
    body = {"growth": target["growth"], "baseline_year": target["baseline_year"],
            "target_year": target["year"], "year": year, "completed": completed,
            "baseline": baseline.equipment_investment if baseline else None}
    if baseline:
        body["target"] = (baseline.equipment_investment * (1 + target["growth"])).quantize(
            Decimal("0.0001"))
        body["progress"] = (completed / body["target"]).quantize(Decimal("0.0001")) \
            if body["target"] else None
    return body


def save_baseline(user: User, code: str, year: int, amount: Decimal) -> Baseline:
    org = user.organization
    if org.role != "agency:miit" or code != org.jurisdiction_code:
        raise Forbidden(_("Only the jurisdiction's own industry and IT department enters its "
                          "baseline."))
    if amount is None or amount < 0:
        raise Invalid(_("Please correct the marked fields."),
                      fields={"amount": _("Must be at least %(n)s.", n=0)})
    scope = org.jurisdiction
    with unit_of_work():
        row = db.session.scalar(select(Baseline).where(Baseline.jurisdiction_code == scope.code,
                                                       Baseline.year == year))
        if row is None:
            row = Baseline(jurisdiction_code=scope.code, year=year, equipment_investment=amount,
                           entered_by_id=user.id)
            db.session.add(row)
        else:
            row.equipment_investment = amount
            row.entered_by_id = user.id
    return row
