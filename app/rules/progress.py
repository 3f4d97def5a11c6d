"""Monthly construction progress (月调度): which month's report is owed, when it is due, how
many have been missed, and when a filing lapses for want of a start.

A project reports every month from the month it was filed (or deferred to a later batch)
until it reports completion. Each month's report is due by the Nth working day of the next
month — N a `local` setting the accepting agency owns (`progress_report`, default 5). A
month whose due day has passed without a report is missed; three missed in a row (or no
actual start within the lapse period after filing, DOMAIN practice) raise a warning to the
accepting agency (review/progress.py).
"""

from calendar import monthrange
from datetime import date, timedelta

from sqlalchemy import select

from ..extensions import db
from ..i18n import gettext as _
from ..models import EquipmentItem, EquipmentKind, ProgressReport, china_date
from .calendar import add_working_days
from .context import RuleContext, guard
from .parameters import parameter
from .settings import resolve

REPORT_SETTING = "progress_report"  # the definition's [settings.progress_report]
STALLED, LAPSED = "stalled", "lapsed"


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day where it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def report_day(definition, place: str, on: date) -> int:
    """N: reports are due by the Nth working day of the next month (the agency's setting)."""
    setting = definition.settings[REPORT_SETTING]
    return int(resolve(f"time_limit:{REPORT_SETTING}", setting.days, setting.basis, place,
                       on, int).value)


def due_on(month: date, working_day: int) -> date:
    """The due day of `month`'s report: the Nth working day of the month after."""
    return add_working_days(next_month(month) - timedelta(days=1), working_day)


def first_month(project) -> date | None:
    """The first month a report is owed for: the filing's (or the deferral's)."""
    if project.filed_at is None:
        return None
    start = china_date(project.filed_at)
    if project.progress_reset_on is not None and project.progress_reset_on > start:
        start = project.progress_reset_on
    return month_of(start)


def reported_months(project) -> set[date]:
    """The months reported, this step's report included."""
    found = set(db.session.scalars(select(ProgressReport.month).where(
        ProgressReport.project_id == project.id)))
    return found | {r.month for r in getattr(project, "staged", {}).get("progress_reports", ())}


def owed_month(project, reported: set[date]) -> date | None:
    """The earliest month since the first that has no report."""
    month = first_month(project)
    if month is None:
        return None
    while month in reported:
        month = next_month(month)
    return month


def missed_run(project, reported: set[date], working_day: int, today: date) -> int:
    """How many months in a row, back from the latest whose report is overdue, went without
    a report by now."""
    start = first_month(project)
    if start is None:
        return 0
    months = []
    month = start
    while due_on(month, working_day) < today:
        months.append(month)
        month = next_month(month)
    run = 0
    for month in reversed(months):
        if month in reported:
            break
        run += 1
    return run


def lapse_day(project) -> date | None:
    """The day the filing lapses if the project has not started (DOMAIN practice)."""
    start = first_month(project)
    if start is None or project.actual_start_on is not None:
        return None
    filed = china_date(project.filed_at)
    base = max(filed, project.progress_reset_on or filed)
    months = int(parameter("filing_lapse_months", base, project.jurisdiction_code))
    return add_months(base, months)


def stall_reason(project, reported: set[date], working_day: int, today: date) -> str | None:
    """Why the accepting agency should be warned now (None: no reason)."""
    misses = int(parameter("progress_misses_warning", today, project.jurisdiction_code))
    if missed_run(project, reported, working_day, today) >= misses:
        return STALLED
    lapse = lapse_day(project)
    if lapse is not None and today >= lapse:
        return LAPSED
    return None


@guard("progress_report_valid")
def progress_report_valid(ctx: RuleContext):
    """A report is for a month since the filing, not in the future, not yet reported; its
    equipment rows are the declaration's new equipment; its start not after today."""
    p, data = ctx.project, ctx.data
    month = data.get("month")
    if month is not None:
        month = month_of(month)
        first = first_month(p)
        if first is not None and month < first:
            return _("The project was filed in %(month)s: no report is owed before.",
                     month=first.strftime("%Y-%m"))
        if month > month_of(ctx.today):
            return _("%(month)s has not begun yet.", month=month.strftime("%Y-%m"))
        if month in reported_months(p):
            return _("The report for %(month)s has been filed already.",
                     month=month.strftime("%Y-%m"))
    start = data.get("actual_start_on")
    if start is not None and start > ctx.today:
        return _("The actual start %(date)s lies in the future.", date=start)
    installed = data.get("equipment_installed") or {}
    if installed:
        rows = set(db.session.scalars(select(EquipmentItem.position).where(
            EquipmentItem.project_id == p.id, EquipmentItem.kind == EquipmentKind.NEW)))
        unknown = sorted(k for k in installed if int(k) not in rows)
        if unknown:
            return _("The declaration has no new equipment in row %(rows)s.",
                     rows=", ".join(unknown))
        late = sorted(k for k, day in installed.items() if day > ctx.today)
        if late:
            return _("Equipment of row %(rows)s cannot be installed in the future.",
                     rows=", ".join(late))
    return None


def open_problem(project) -> ProgressReport | None:
    """The oldest report whose problem awaits the agency's answer (this step's changes seen)."""
    staged = getattr(project, "staged", {})
    answered = set(staged.get("answered", ()))
    rows = list(db.session.scalars(select(ProgressReport).where(
        ProgressReport.project_id == project.id, ProgressReport.problems.is_not(None),
        ProgressReport.answered_at.is_(None)).order_by(ProgressReport.month)))
    new = [r for r in staged.get("progress_reports", ()) if r.problems]
    return next((r for r in [*rows, *new] if r.id is None or r.id not in answered), None)


@guard("problem_open")
def problem_open(ctx: RuleContext):
    if open_problem(ctx.project) is not None:
        return None
    return _("No problem reported by the enterprise awaits an answer.")


@guard("stall_warned")
def stall_warned(ctx: RuleContext):
    if ctx.project.stall_warned_at is not None:
        return None
    return _("No warning has been raised: the project reports on time and has started.")
