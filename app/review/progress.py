"""Stalled and lapsed projects: the periodic check that warns the accepting agency.

A filed project under construction that has missed its monthly reports three months running,
or has not started within the lapse period after filing (DOMAIN practice: the filing lapses),
is warned once: an audit-only step (`warn_stalled`) by the system through the one step
writer, after which the accepting agency owes a decision — `exit_library` (退库) or
`defer_batch`. A second run, or two at once, change nothing more; the day is injectable
(`flask progress check --today`).
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from ..accounts.operations import system_user
from ..errors import Conflict
from ..extensions import db
from ..models import ProgressReport, Project, Status, utcnow
from ..rules.progress import report_day, stall_reason
from ..workflow import workflows
from ..workflow.vocabulary import WARN_STALLED

UNDER_CONSTRUCTION = (Status.COMMITMENT_FILING, Status.FINANCING_MATCHMAKING,
                      Status.LEAD_BANK_DESIGNATED)


@dataclass
class Run:
    warned: list[tuple[int, str]] = field(default_factory=list)  # (project id, reason)


def check(today: date) -> Run:
    """Warn, once each, about the projects that stalled or lapsed by `today`."""
    done = Run()
    actor = system_user()
    ids = db.session.scalars(select(Project.id).where(
        Project.status.in_(UNDER_CONSTRUCTION), Project.filed_at.is_not(None),
        Project.completion_reported_at.is_(None), Project.stall_warned_at.is_(None))
        .order_by(Project.id)).all()
    months: dict[int, set] = {}
    for start in range(0, len(ids), 500):  # the reported months, read in a few queries
        for project_id, month in db.session.execute(select(
                ProgressReport.project_id, ProgressReport.month).where(
                ProgressReport.project_id.in_(ids[start:start + 500]))):
            months.setdefault(project_id, set()).add(month)
    for project_id in ids:
        project = db.session.get(Project, project_id)
        reported = months.get(project_id, set())
        definition = workflows().for_project(project, today)
        reason = stall_reason(project, reported,
                              report_day(definition, project.jurisdiction_code, today), today)
        if reason is not None and warn(project, reason, actor, today):
            done.warned.append((project_id, reason))
    return done


def warn(project: Project, reason: str, actor, today: date) -> bool:
    """Raise the warning on one project (False if it already stands)."""
    now = utcnow()

    def change(state, changes):
        if state.stall_warned_at is not None:
            raise Conflict("already warned")
        state.stall_warned_at, state.stall_reason = now, reason
        return {"reason": reason, "on": today.isoformat()}

    try:
        workflows().record(project, WARN_STALLED, actor, version=None, change=change,
                           today=today)
    except Conflict:
        db.session.rollback()
        return False
    return True
