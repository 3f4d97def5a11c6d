"""The library's numbers for a jurisdiction (and everything below it) and a batch year.

Every figure comes from the statistics rollup (reporting/rollup.py: sums per county, batch
year, status and industry, kept current by each transaction), the open deadlines and the
small plan tables — never from the project rows or the audit trail — so a national
dashboard costs about the same at a million projects as at a thousand.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from .. import access
from ..database import report_reader, unit_of_work
from ..errors import DomainError, Forbidden, Invalid
from ..extensions import db
from ..i18n import gettext as _
from ..models import (
    Baseline,
    Deadline,
    Designation,
    Jurisdiction,
    Level,
    OrgKind,
    PlanEntry,
    PlanImport,
    Project,
    StatsBucket,
    StatsCompletion,
    StatsMonth,
    StatsStageDays,
    Status,
    User,
    china_today,
)
from ..models.base import wan_from_yuan
from ..workflow import workflows

IN_LIBRARY = (Status.DECLARED, Status.COMMITMENT_FILING, Status.FINANCING_MATCHMAKING,
              Status.LEAD_BANK_DESIGNATED, Status.COMPLETED)
# Accepted into the library (入库) and still in it, or completed there.
ACCEPTED = (Status.COMMITMENT_FILING, Status.FINANCING_MATCHMAKING, Status.LEAD_BANK_DESIGNATED,
            Status.COMPLETED)
# The column naming the next level down, for the by-region table.
CHILD_COLUMN = {Level.NATIONAL: "province_code", Level.PROVINCE: "city_code",
                Level.CITY: "jurisdiction_code"}
STAGE_ORDER = (Status.DECLARED, Status.RETURNED, Status.COMMITMENT_FILING,
               Status.FINANCING_MATCHMAKING, Status.LEAD_BANK_DESIGNATED)
BUCKET_SUMS = ("projects", "total_yuan", "equipment_yuan", "annual_yuan", "need_yuan",
               "new_units", "credit_yuan", "contract_yuan", "drawn_yuan", "loans",
               "relending_yuan", "subsidy_yuan", "claimed_yuan", "approved_yuan", "paid_yuan",
               "clawed_back_yuan")


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
    escalated: list[dict] = field(default_factory=list)  # overdue below, escalated to this level
    plan: list[dict] = field(default_factory=list)
    plan_discrepancies: list = field(default_factory=list)
    monthly: list[dict] = field(default_factory=list)
    targets: dict | None = None  # the governing document's figures, with their trajectories
    progress: dict = field(default_factory=dict)  # construction progress (月调度)
    designations: dict = field(default_factory=dict)  # key and demonstration projects by tag


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
    if place is None:
        raise Invalid(_("Unknown jurisdiction."), fields={"jurisdiction": _("Unknown jurisdiction.")})
    if not own.contains(place.code):  # a real place, not this user's (403, as elsewhere)
        raise Forbidden(_("Reports cover your own jurisdiction and the places within it."))
    return place


def in_scope(table, scope: Jurisdiction, year: int | None) -> list:
    """Conditions selecting `scope` (province, then city, then county: the order the rollup
    and deadline indexes lead with) and, if given, the batch year."""
    code = scope.code
    conditions = []
    if scope.level != Level.NATIONAL:
        conditions.append(table.province_code == code[:2] + "0000")
    if scope.level in (Level.CITY, Level.COUNTY):
        conditions.append(table.city_code == code[:4] + "00")
    if scope.level == Level.COUNTY:
        conditions.append(table.jurisdiction_code == code)
    if year:
        conditions.append(table.batch_year == year)
    return conditions


def _sums_by(rows, key) -> dict:
    """Bucket sums added up under `key(row)` (a status, an industry …). Columns are summed
    over the transposed rows by `sum`, which keeps a national dashboard (thousands of bucket
    rows) quick."""
    grouped = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row[-len(BUCKET_SUMS):])
    return {k: dict(zip(BUCKET_SUMS, map(sum, zip(*values, strict=True)), strict=True))
            for k, values in grouped.items()}


def summary(user: User, code: str | None = None, year: int | None = None,
            today: date | None = None) -> Summary:
    # Agencies see every declared project of their jurisdiction, the same set the rollup
    # holds per county; scope_for refuses everyone else.
    scope = scope_for(user, code)
    with report_reader() as reader:
        return _figures(reader, Summary(scope=scope, year=year), today or china_today())


def _figures(reader: Session, report: Summary, today: date) -> Summary:
    """Fill in `report`, reading through `reader`."""
    scope, year = report.scope, report.year
    every = _buckets(reader, scope, year)  # a failed project's subsidy still counts
    library = {s.value for s in IN_LIBRARY}
    rows = [r for r in every if r.status in library]
    by_plan = _sums_by(rows, lambda r: (r.industry, r.batch_year))
    completed = _sums_by([r for r in rows if r.status == Status.COMPLETED],
                         lambda r: (r.industry, r.batch_year))
    total = _sums_by(rows, lambda r: None).get(None, dict.fromkeys(BUCKET_SUMS, 0))
    report.by_stage = {status: sums["projects"]
                       for status, sums in _sums_by(rows, lambda r: r.status).items()}
    report.by_industry = _industries(_sums_by(rows, lambda r: r.industry))
    report.by_region = _by_region(reader, scope, _sums_by(rows, lambda r: r.child),
                                  _sums_by(every, lambda r: r.child))
    report.totals = _totals(total)
    report.financing = _financing(total) | _subsidies(
        _sums_by(every, lambda r: None).get(None, dict.fromkeys(BUCKET_SUMS, 0)))
    report.stage_days = _stage_days(reader, scope, year)
    report.overdue = _overdue(reader, scope, year, today)
    report.escalated = _escalated(reader, scope)
    report.plan, report.plan_discrepancies = _plan(reader, scope, year, by_plan, completed)
    report.monthly = _monthly(reader, scope, year)
    report.targets = _targets(reader, scope)
    report.progress = _progress(reader, scope, year, today)
    report.designations = dict(reader.execute(
        select(Designation.tag, func.count()).where(*in_scope(Designation, scope, None))
        .group_by(Designation.tag)).all())
    return report


def _progress(reader: Session, scope: Jurisdiction, year: int | None, today: date) -> dict:
    """Construction progress of the filed projects under construction: started, investment
    completed (万元), late with their monthly report (amber), warned (stalled or lapsed) and
    awaiting a decision; exited (退库) projects counted on their own."""
    building = (Status.COMMITMENT_FILING, Status.FINANCING_MATCHMAKING,
                Status.LEAD_BANK_DESIGNATED)
    filed, started, invested, warned = reader.execute(
        select(*[func.coalesce(func.sum(column), 0) for column in (
            StatsBucket.filed, StatsBucket.started, StatsBucket.completed_yuan,
            StatsBucket.warned)])
        .where(*in_scope(StatsBucket, scope, year),
               StatsBucket.status.in_([s.value for s in building]))).one()
    invested = wan_from_yuan(invested)
    late = reader.scalar(select(func.count()).select_from(Deadline).where(
        *in_scope(Deadline, scope, year), Deadline.trigger == "report_progress",
        Deadline.met_at.is_(None), Deadline.due_on < today))
    problems = reader.scalar(select(func.count()).select_from(Deadline).where(
        *in_scope(Deadline, scope, year), Deadline.trigger == "answer_problem",
        Deadline.met_at.is_(None)))
    exited = reader.scalar(select(func.coalesce(func.sum(StatsBucket.projects), 0)).where(
        *in_scope(StatsBucket, scope, year), StatsBucket.status == Status.EXITED.value))
    return {"filed": filed, "started": started, "investment_completed": invested or Decimal(0),
            "late_reports": late, "open_problems": problems, "warned": warned,
            "exited": exited}


def _industries(by_industry: dict) -> list[dict]:
    return sorted((
        {"industry": industry or "—", "projects": sums["projects"],
         "total_investment": wan_from_yuan(sums["total_yuan"]),
         "equipment_investment": wan_from_yuan(sums["equipment_yuan"])}
        for industry, sums in by_industry.items()), key=lambda r: (-r["projects"], r["industry"]))


def _totals(total: dict) -> dict:
    return {"projects": total["projects"],
            "total_investment": wan_from_yuan(total["total_yuan"]),
            "equipment_investment": wan_from_yuan(total["equipment_yuan"]),
            "annual_investment": wan_from_yuan(total["annual_yuan"])}


def _financing(total: dict) -> dict:
    return {"need": wan_from_yuan(total["need_yuan"]), "credit": wan_from_yuan(total["credit_yuan"]),
            "contracted": wan_from_yuan(total["contract_yuan"]),
            "drawn": wan_from_yuan(total["drawn_yuan"]), "loans": total["loans"],
            "relending_principal": wan_from_yuan(total["relending_yuan"]),
            "subsidy": wan_from_yuan(total["subsidy_yuan"])}


def _subsidies(total: dict) -> dict:
    """Subsidy claimed, approved, paid and clawed back: every project's, a failed one's too."""
    return {f"subsidy_{name}": wan_from_yuan(total[f"{name}_yuan"])
            for name in ("claimed", "approved", "paid", "clawed_back")}


def _overdue(reader: Session, scope: Jurisdiction, year: int | None, today: date) -> list[dict]:
    """Open steps past their due date, per agency role and level, most first."""
    return [{"role": role, "level": level, "count": count} for role, level, count in reader.execute(
        select(Deadline.role, Deadline.level, func.count())
        .where(*in_scope(Deadline, scope, year), Deadline.met_at.is_(None), Deadline.due_on < today)
        .group_by(Deadline.role, Deadline.level).order_by(func.count().desc()))]


def _escalated(reader: Session, scope: Jurisdiction, limit: int = 50) -> list[dict]:
    """Steps overdue at the level below and escalated to this one (reminders.run), oldest
    first: what this level's agencies should chase. (Read from the escalated rows' own
    index; the few projects named are then looked up by key.)"""
    rows = reader.execute(
        select(Deadline.project_id, Deadline.role, Deadline.trigger, Deadline.due_on)
        .where(Deadline.escalated_to == scope.code, Deadline.met_at.is_(None))
        .order_by(Deadline.due_on, Deadline.id).limit(limit)).all()
    if not rows:
        return []
    names = {key: (name, public_id) for key, name, public_id in reader.execute(
        select(Project.id, Project.name, Project.public_id)
        .where(Project.id.in_({row.project_id for row in rows})))}
    return [{"project": names[row.project_id][0], "project_id": names[row.project_id][1],
             "role": row.role, "trigger": row.trigger, "due_on": row.due_on} for row in rows]


def _buckets(reader: Session, scope: Jurisdiction, year: int | None):
    """Bucket sums per status, industry, batch year and next-level region."""
    keys = [StatsBucket.status, StatsBucket.industry, StatsBucket.batch_year]
    if scope.level in CHILD_COLUMN:
        child = getattr(StatsBucket, CHILD_COLUMN[scope.level])
        groups = [*keys, child]
    else:  # a county: no level below (PostgreSQL refuses to group by a constant)
        child, groups = literal_column("''"), keys
    return reader.execute(
        select(*keys, child.label("child"),
               *[func.sum(getattr(StatsBucket, name)).label(name) for name in BUCKET_SUMS])
        .where(*in_scope(StatsBucket, scope, year))
        .group_by(*groups).having(func.sum(StatsBucket.projects) > 0)).all()


def _by_region(reader: Session, scope: Jurisdiction, by_region: dict,
               every: dict) -> list[dict]:
    if scope.level not in CHILD_COLUMN:
        return []
    empty = dict.fromkeys(BUCKET_SUMS, 0)
    by_region = {code: by_region.get(code, empty) for code in sorted(set(by_region) | {
        code for code, sums in every.items() if sums["claimed_yuan"] or sums["paid_yuan"]})}
    names = dict(reader.execute(select(Jurisdiction.code, Jurisdiction.name)
                                    .where(Jurisdiction.code.in_(list(by_region)))).all())
    return [{"code": code, "name": names.get(code, code), "projects": sums["projects"],
             "total_investment": wan_from_yuan(sums["total_yuan"]),
             "programme": _programme_label(code),
             "subsidy_claimed": wan_from_yuan(every.get(code, empty)["claimed_yuan"]),
             "subsidy_paid": wan_from_yuan(every.get(code, empty)["paid_yuan"])}
            for code, sums in sorted(by_region.items())]


def _programme_label(code: str) -> str:
    """The fiscal support programme of the document in force in a region ("" for none)."""
    try:
        definition = workflows().resolve(code, china_today())
    except DomainError:
        return ""
    return "、".join(p.label for p in definition.programmes)


def _stage_days(reader: Session, scope: Jurisdiction, year: int | None) -> list[dict]:
    found = {status: (stays, days, longest) for status, stays, days, longest in reader.execute(
        select(StatsStageDays.status, func.sum(StatsStageDays.stays),
               func.sum(StatsStageDays.days), func.max(StatsStageDays.longest))
        .where(*in_scope(StatsStageDays, scope, year))
        .group_by(StatsStageDays.status).having(func.sum(StatsStageDays.stays) > 0))}
    return [{"status": s.value, "stays": found[s][0],
             "average_days": (Decimal(found[s][1]) / found[s][0]).quantize(Decimal("0.1")),
             "longest_days": found[s][2]} for s in STAGE_ORDER if s in found]


def _plan(reader: Session, scope: Jurisdiction, year: int | None, declared: dict, completed: dict):
    """Plan vs declared vs completed per industry and year, where the scope has a plan."""
    query = select(PlanEntry).where(PlanEntry.jurisdiction_code == scope.code)
    if year:
        query = query.where(PlanEntry.year == year)
    plan = {(p.industry, p.year): p for p in reader.scalars(query)}
    if not plan:
        return [], []
    rows = []
    for (industry, y), entry in sorted(plan.items(), key=lambda kv: (kv[0][1], -kv[1].investment)):
        mine, done = declared.get((industry, y)), completed.get((industry, y))
        rows.append({
            "industry": industry, "year": y, "plan_units": entry.equipment_units,
            "plan_investment": entry.investment,
            "declared_units": mine["new_units"] if mine else 0,
            "declared_investment": wan_from_yuan(mine["equipment_yuan"] if mine else 0),
            "completed_investment": wan_from_yuan(done["equipment_yuan"] if done else 0)})
    last = reader.scalar(select(PlanImport).where(PlanImport.jurisdiction_code == scope.code)
                             .order_by(PlanImport.id.desc()))
    found = [{**d, "stated": Decimal(d["stated"]), "summed": Decimal(d["summed"])}
             for d in (last.discrepancies if last else [])]
    return rows, found


def _monthly(reader: Session, scope: Jurisdiction, year: int | None) -> list[dict]:
    """Declarations received per month (by first declaration), the last twelve months."""
    rows = reader.execute(
        select(StatsMonth.month, func.sum(StatsMonth.declared))
        .where(*in_scope(StatsMonth, scope, year)).group_by(StatsMonth.month)
        .having(func.sum(StatsMonth.declared) > 0).order_by(StatsMonth.month.desc()).limit(12))
    return [{"month": m, "declared": n} for m, n in reversed(rows.all())]


TRAJECTORY = range(2024, 2028)  # the documents' years: 2024 to their 2027 targets


def _targets(reader: Session, scope: Jurisdiction) -> dict | None:
    """Every figure the document governing the scope sets, each as a trajectory over the
    years 2024–2027 against its line, measured on actuals where the library holds them:
    equipment investment of verified completions by year of completion against the agency's
    baseline; projects entering the library by batch year. A figure the library has no data
    for says so."""
    try:
        definition = workflows().resolve(scope.code, china_today())
    except Invalid:
        return None
    if not definition.targets:
        return None
    completions = _completions(reader, scope)
    per_year = _library_by_year(reader, scope)
    found = []
    for target in definition.targets:
        row = {"name": target.name, "label": target.label, "value": target.value,
               "unit": target.unit, "year": target.year, "approximate": target.approximate,
               "baseline_year": target.baseline_year, "clause": target.clause,
               "quote": target.quote, "measured": target.measure is not None, "years": [],
               "baseline": None, "baseline_source": None}
        if target.measure == "equipment_investment_growth":
            row.update(_growth_trajectory(reader, scope, target, completions))
        elif target.measure and target.measure.startswith("designated:"):
            tag = target.measure.split(":", 1)[1]
            row["actual"] = reader.scalar(select(func.count()).select_from(Designation).where(
                *in_scope(Designation, scope, None), Designation.tag == tag))
        elif target.measure == "projects_per_year":
            row["years"] = [{"year": y, "line": target.value, "actual": per_year.get(y, 0)}
                            for y in TRAJECTORY]
        found.append(row)
    return {"key": definition.key, "document": definition.title,
            "number": definition.document, "targets": found}


def _growth_trajectory(reader: Session, scope: Jurisdiction, target, completions) -> dict:
    baseline = reader.scalar(select(Baseline).where(
        Baseline.jurisdiction_code == scope.code, Baseline.year == target.baseline_year))
    body = {"baseline": None, "baseline_source": None, "years": []}
    if baseline is None:
        return body
    base = baseline.equipment_investment
    body.update(baseline=base, baseline_source=baseline.source)
    span = target.year - target.baseline_year
    for year in TRAJECTORY:
        line = (base * (1 + target.value * (year - target.baseline_year) / span)).quantize(
            Decimal("0.0001"))
        actual = completions.get(year, Decimal(0))
        body["years"].append({"year": year, "line": line, "actual": actual,
                              "growth": ((actual / base - 1).quantize(Decimal("0.0001"))
                                         if base else None)})
    return body


def _completions(reader: Session, scope: Jurisdiction) -> dict[int, Decimal]:
    """Verified equipment investment by year of completion."""
    rows = reader.execute(select(StatsCompletion.year,
                                 func.sum(StatsCompletion.actual_equipment_yuan))
                          .where(*in_scope(StatsCompletion, scope, None))
                          .group_by(StatsCompletion.year))
    return {year: wan_from_yuan(total) for year, total in rows}


def _library_by_year(reader: Session, scope: Jurisdiction) -> dict[int, int]:
    """Projects in the library (accepted, in any later stage) by batch year."""
    rows = reader.execute(select(StatsBucket.batch_year, func.sum(StatsBucket.projects))
                          .where(*in_scope(StatsBucket, scope, None),
                                 StatsBucket.status.in_([s.value for s in ACCEPTED]))
                          .group_by(StatsBucket.batch_year))
    return {year: int(count) for year, count in rows}


def save_baseline(user: User, code: str, year: int, amount: Decimal,
                  source: str | None = None) -> Baseline:
    if refusal := access.baseline_refusal(user, code):
        raise refusal
    if amount is None or amount < 0:
        raise Invalid(_("Please correct the marked fields."),
                      fields={"amount": _("Must be at least %(n)s.", n=0)})
    scope = user.organization.jurisdiction
    with unit_of_work():
        row = db.session.scalar(select(Baseline).where(Baseline.jurisdiction_code == scope.code,
                                                       Baseline.year == year))
        if row is None:
            row = Baseline(jurisdiction_code=scope.code, year=year, equipment_investment=amount,
                           source=source, entered_by_id=user.id)
            db.session.add(row)
        else:
            row.equipment_investment, row.source = amount, source
            row.entered_by_id = user.id
    return row
