"""Time limits: which agency steps a project is waiting for, and the working day each is due.

A step is owed when its guards pass (e.g. filing is owed once the commitment is signed, a
lead-bank decision once a bank has claimed). Its clock starts that day and counts working
days on China's official calendar. A return to the enterprise pauses the clock: the days
used are kept and, when the enterprise resubmits into the same stage, only the rest remain.
Negative decisions (return, reject …) share the limit of the step they decide on.
"""

from datetime import UTC, date, datetime

from sqlalchemy import select

from ..extensions import db
from ..models import CHINA, Deadline, Project, StageTime, Status
from ..rules import BRANCHES, GUARDS, RuleContext
from ..rules.calendar import add_working_days, working_days_between
from ..services import stats
from .definitions import Definition, TransitionSpec

NEGATIVE = frozenset({"return", "reject", "withdraw", "decline_claim", "refuse_change"})
SIDE_STATES = frozenset({Status.RETURNED, Status.REJECTED, Status.WITHDRAWN})


def owed_steps(definition: Definition, project: Project,
               today: date) -> dict[tuple[str, str], TransitionSpec]:
    """The agency steps with a time limit that `project` now waits for, by (role, level)."""
    owed: dict[tuple[str, str], TransitionSpec] = {}
    for spec in definition.transitions:
        if (project.status.value not in spec.sources or not spec.sla_days
                or spec.agency_kind is None or spec.trigger in NEGATIVE):
            continue
        ctx = RuleContext(project=project, actor=None, definition=definition, today=today,
                          probing=True, acting_role=spec.role)
        if spec.when and not BRANCHES[spec.when](ctx):
            continue
        if any(GUARDS[name](ctx) for name in spec.guards):
            continue
        owed.setdefault((spec.role, spec.level_key), spec)
    return owed


def reschedule(project: Project, definition: Definition, source: Status,
               fired: TransitionSpec | None, today: date, now: datetime) -> list[Deadline]:
    """Bring the project's deadlines up to date after `fired` moved it from `source`;
    returns the deadlines this opened (whose agencies are now to be told)."""
    rows = {(row.role, row.level): row for row in project.deadlines}
    if project.status == Status.RETURNED:
        project.clock_used_days = max((row.used_days + working_days_between(row.started_on, today)
                                       for row in rows.values() if row.met_at is None), default=0)
        project.clock_paused_state = source.value
        project.deadlines.clear()
        return []
    resumed = 0
    if source == Status.RETURNED and project.clock_paused_state == project.status.value:
        resumed = project.clock_used_days
    if project.status != source:
        project.clock_used_days, project.clock_paused_state = 0, None
        project.deadlines.clear()
        rows = {}
    if project.status in SIDE_STATES or project.status == Status.COMPLETED:
        return []
    owed = owed_steps(definition, project, today)
    fired_key = (fired.role, fired.level_key) if fired else None
    for key, row in rows.items():
        if key not in owed:
            project.deadlines.remove(row)
        elif key == fired_key and row.met_at is None:
            row.met_at = now  # an in-stage step done (e.g. whitelisted); its clock stops
    opened = []
    for key, spec in owed.items():
        if key not in rows:
            remaining = max(spec.sla_days - resumed, 0)
            deadline = Deadline(
                role=spec.role, level=key[1], trigger=spec.trigger, started_on=today,
                sla_days=spec.sla_days, used_days=resumed,
                due_on=add_working_days(today, remaining))
            deadline.locate(project)
            opened.append(deadline)
    project.deadlines.extend(opened)
    return opened


def china_date(moment: datetime) -> date:
    return moment.replace(tzinfo=UTC).astimezone(CHINA).date()


def track_stage(project: Project, now: datetime) -> None:
    """Close the project's current stay in a status (with its working days) and open the
    next one; reports of time spent per step read these rows, not the audit trail."""
    current = db.session.scalar(
        select(StageTime).where(StageTime.project_id == project.id, StageTime.left_at.is_(None)))
    if current is not None:
        current.left_at = now
        current.working_days = working_days_between(china_date(current.entered_at),
                                                     china_date(now))
        stats.count_stay(project, current.status, current.working_days)
    db.session.add(StageTime(project_id=project.id, status=project.status.value,
                             entered_at=now))
