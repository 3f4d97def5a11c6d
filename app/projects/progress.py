"""A project's monthly construction progress (月调度) as pages and the API show it: its
reports with the problems raised and their answers, the month owed next and its due day
(the agency's own setting, shown as such), and whether the project is late."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import ProgressReport, Project, china_today
from ..rules.progress import REPORT_SETTING, due_on, owed_month, report_day
from ..rules.settings import Figure, resolve
from ..workflow.deadlines import ENDED


@dataclass
class Progress:
    reports: list[ProgressReport] = field(default_factory=list)  # newest first
    owed_month: str | None = None  # YYYY-MM of the report owed next
    due_on: date | None = None
    late: bool = False  # amber: the owed report's due day has passed
    report_day: Figure | None = None  # N of "the Nth working day of the next month"


def progress_of(project: Project, definition, today: date | None = None, *,
                reported: bool = True) -> Progress:
    """`reported`: False when the caller knows the project has no reports (no query)."""
    today = today or china_today()
    reports = list(db.session.scalars(select(ProgressReport).where(
        ProgressReport.project_id == project.id).order_by(ProgressReport.month.desc()))) \
        if reported else []
    found = Progress(reports=reports)
    if definition is None or REPORT_SETTING not in definition.settings:
        return found
    setting = definition.settings[REPORT_SETTING]
    found.report_day = resolve(f"time_limit:{REPORT_SETTING}", setting.days, setting.basis,
                               project.jurisdiction_code, today, int)
    if project.filed_at is None or project.status in ENDED \
            or project.completion_reported_at is not None:
        return found
    month = owed_month(project, {r.month for r in reports})
    found.owed_month = month.strftime("%Y-%m")
    found.due_on = due_on(month, report_day(definition, project.jurisdiction_code, today))
    found.late = today > found.due_on
    return found


def report_json(report: ProgressReport, project: Project) -> dict:
    return {"project": str(project.public_id), "project_name": project.name,
            "month": report.month.strftime("%Y-%m"),
            "actual_start_on": report.actual_start_on.isoformat()
            if report.actual_start_on else None,
            "investment_completed": str(report.investment_completed),
            "percent_complete": report.percent_complete,
            "equipment_installed": report.equipment_installed, "problems": report.problems,
            "late": report.late, "reported_at": report.reported_at.isoformat(),
            "answer": report.answer, "answered_by": report.answered_by_name,
            "answered_at": report.answered_at.isoformat() if report.answered_at else None}


def visible_reports(user, *, project_id: int | None = None, open_problems: bool = False,
                    limit: int = 50, cursor: int | None = None) -> tuple[list, int | None]:
    """Reports of the projects `user` may see, newest first (keyset by id): (report,
    project) pairs and the cursor of the next page."""
    from .. import access

    query = (select(ProgressReport, Project).join(Project, ProgressReport.project_id == Project.id)
             .where(access.visible_condition(user)).order_by(ProgressReport.id.desc()))
    if project_id is not None:
        query = query.where(Project.id == project_id)
    if open_problems:
        query = query.where(ProgressReport.problems.is_not(None),
                            ProgressReport.answered_at.is_(None))
    if cursor is not None:
        query = query.where(ProgressReport.id < cursor)
    rows = db.session.execute(query.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [(r, p) for r, p in rows], (rows[-1][0].id if more else None)
