"""The monthly bulletin (通报) of construction progress, per jurisdiction: for each region one
level down (a province its cities, a city its counties, a county itself), the filed projects,
how many have started (and started in the month), investment completed against plan, the
projects warned as stalled or lapsed, those exited (退库); and the overdue steps by agency.

Figures stand as of the month's end: a project counts if it was filed by then, its start and
its investment completed are those of its latest monthly report for the month or before.
Warnings, exits and overdue steps are as they stand on the day the bulletin is read.
Subsidy claimed sums the claims filed by the month's end that stand claimed today (a
returned claim counts once corrected); subsidy paid, those of them paid on or before the
month's last day — every programme of the place, exited projects' claims included.
"""

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from openpyxl import Workbook
from sqlalchemy import func, select

from ..extensions import db
from ..i18n import gettext as _
from ..labels import ROLE_LABELS
from ..models import (
    Deadline,
    Jurisdiction,
    ProgressReport,
    Project,
    Status,
    SubsidyClaim,
    SubsidyStatus,
    User,
    china_today,
    utcnow,
)
from ..models.base import CHINA, UTC_ZONE
from ..rules.progress import next_month
from .dashboard import CHILD_COLUMN, in_scope, scope_for

FIGURES = ("projects", "started", "started_in_month", "planned_investment",
           "investment_completed", "warned", "exited", "subsidy_claimed", "subsidy_paid")


@dataclass
class Row:
    code: str
    name: str
    projects: int = 0  # filed by the month's end, not exited
    started: int = 0
    started_in_month: int = 0
    planned_investment: Decimal = Decimal(0)  # their declared total investment
    investment_completed: Decimal = Decimal(0)  # by their latest reports
    warned: int = 0  # stalled or lapsed, awaiting the agency's decision
    exited: int = 0  # 退库
    subsidy_claimed: Decimal = Decimal(0)  # claims filed by the month's end, not returned
    subsidy_paid: Decimal = Decimal(0)  # of them, paid by the month's end

    @property
    def completion_rate(self) -> Decimal | None:
        if not self.planned_investment:
            return None
        return (self.investment_completed / self.planned_investment * 100).quantize(
            Decimal("0.1"))


@dataclass
class Bulletin:
    scope: Jurisdiction
    month: date
    rows: list[Row] = field(default_factory=list)
    total: Row | None = None
    stalled: list[dict] = field(default_factory=list)
    overdue: list[dict] = field(default_factory=list)  # by agency role and level


def _month_end_utc(month: date):
    """The first moment after the month, China time, as the naive UTC the columns hold."""
    start = next_month(month)
    return datetime(start.year, start.month, 1, tzinfo=CHINA).astimezone(UTC_ZONE).replace(
        tzinfo=None)


def bulletin(user: User, month: date, code: str | None = None,
             today: date | None = None) -> Bulletin:
    """The bulletin of `month` for the user's jurisdiction (or one inside it)."""
    scope = scope_for(user, code)
    month, today = month.replace(day=1), today or china_today()
    cut = min(_month_end_utc(month), utcnow())
    child = getattr(Project, CHILD_COLUMN[scope.level]) if scope.level in CHILD_COLUMN \
        else Project.jurisdiction_code
    projects = db.session.execute(
        select(Project.id, child.label("child"), Project.name, Project.status,
               Project.total_investment, Project.stall_warned_at, Project.stall_reason)
        .where(*in_scope(Project, scope, None), Project.filed_at.is_not(None),
               Project.filed_at < cut)).all()
    ids = [p.id for p in projects]
    latest: dict[int, ProgressReport] = {}
    started_on: dict[int, date] = {}
    for chunk in range(0, len(ids), 500):
        for report in db.session.scalars(select(ProgressReport).where(
                ProgressReport.project_id.in_(ids[chunk:chunk + 500]),
                ProgressReport.month <= month).order_by(ProgressReport.month)):
            latest[report.project_id] = report
            if report.actual_start_on and report.project_id not in started_on:
                started_on[report.project_id] = report.actual_start_on
    rows: dict[str, Row] = {}
    found = Bulletin(scope=scope, month=month)
    for p in projects:
        row = rows.setdefault(p.child, Row(p.child, ""))
        if p.status == Status.EXITED:
            row.exited += 1
            continue
        row.projects += 1
        row.planned_investment += p.total_investment or 0
        start = started_on.get(p.id)
        if start is not None and start < next_month(month):
            row.started += 1
            row.started_in_month += start >= month
        if p.id in latest:
            row.investment_completed += latest[p.id].investment_completed
        if p.stall_warned_at is not None:
            row.warned += 1
            found.stalled.append({"project": p.name, "region": p.child, "reason": p.stall_reason})
    last_day = next_month(month) - timedelta(days=1)
    for region, claimed, paid, paid_on in db.session.execute(
            select(child, SubsidyClaim.claimed, SubsidyClaim.paid, SubsidyClaim.paid_on)
            .join(Project, SubsidyClaim.project_id == Project.id)
            .where(*in_scope(Project, scope, None), SubsidyClaim.claimed_at < cut,
                   SubsidyClaim.status != SubsidyStatus.RETURNED)):
        row = rows.setdefault(region, Row(region, ""))
        row.subsidy_claimed += claimed
        if paid is not None and paid_on <= last_day:
            row.subsidy_paid += paid
    names = dict(db.session.execute(select(Jurisdiction.code, Jurisdiction.name).where(
        Jurisdiction.code.in_(list(rows)))).all())
    for row in rows.values():
        row.name = names.get(row.code, row.code)
    found.rows = sorted(rows.values(), key=lambda r: r.code)
    found.total = Row(scope.code, _("Total"))
    for row in found.rows:
        for name in FIGURES:
            setattr(found.total, name, getattr(found.total, name) + getattr(row, name))
    counts = defaultdict(int)
    for role, level, n in db.session.execute(
            select(Deadline.role, Deadline.level, func.count())
            .where(*in_scope(Deadline, scope, None), Deadline.met_at.is_(None),
                   Deadline.due_on < today).group_by(Deadline.role, Deadline.level)):
        counts[(role, level)] += n
    found.overdue = [{"role": role, "level": level, "count": n}
                     for (role, level), n in sorted(counts.items(), key=lambda kv: -kv[1])]
    return found


def headers() -> list[str]:
    return [_("Region"), _("Filed projects"), _("Started"), _("Started this month"),
            _("Planned investment (10k yuan)"), _("Investment completed (10k yuan)"),
            _("Completed against plan (%)"), _("Warned: stalled or lapsed"),
            _("Exited from the library"), _("Subsidy claimed (10k yuan)"),
            _("Subsidy paid (10k yuan)")]


def row_values(row: Row) -> list:
    rate = row.completion_rate
    return [row.name, row.projects, row.started, row.started_in_month,
            float(row.planned_investment), float(row.investment_completed),
            float(rate) if rate is not None else None, row.warned, row.exited,
            float(row.subsidy_claimed), float(row.subsidy_paid)]


def workbook(report: Bulletin) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Bulletin"))
    sheet.append([_("Monthly bulletin of %(place)s, %(month)s", place=report.scope.full_name,
                    month=report.month.strftime("%Y-%m"))])
    sheet.append(headers())
    for row in [*report.rows, report.total]:
        sheet.append(row_values(row))
    overdue = book.create_sheet(_("Overdue steps"))
    overdue.append([_("Agency"), _("Overdue steps")])
    for item in report.overdue:
        overdue.append([str(ROLE_LABELS.get(item["role"], item["role"]))
                        + (f"（{item['level']}）" if item["level"] else ""), item["count"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

