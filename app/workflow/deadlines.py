"""Time limits: which agency steps a project is waiting for, and the working day each is due.

A step is owed when its guards pass (e.g. filing is owed once the commitment is signed, a
lead-bank decision once a bank has claimed). Its clock starts that day and counts working
days on China's official calendar. A return to the enterprise pauses the clock: the days
used are kept and, when the enterprise resubmits into the same stage, only the rest remain.
Negative decisions (return, reject …) share the limit of the step they decide on.
"""

from dataclasses import dataclass
from datetime import date, datetime

from ..models import Deadline, StageTime, Status, china_date
from ..rules import BRANCHES, GUARDS, RuleContext
from ..rules.calendar import add_working_days, working_days_between
from ..rules.settings import Figure, resolve
from .changeset import Delete, Insert, Update
from .definitions import Definition, TransitionSpec

NEGATIVE = frozenset({"return", "reject", "withdraw", "decline_claim", "refuse_change",
                      "return_completion", "fail_completion"})
# Where a project waits for no agency.
ENDED = frozenset({Status.RETURNED, Status.REJECTED, Status.WITHDRAWN, Status.COMPLETED,
                   Status.FAILED})


def owed_steps(definition: Definition, project,
               today: date) -> dict[tuple[str, str, str], TransitionSpec]:
    """The agency steps with a time limit that `project` now waits for, by (role, level,
    trigger): one agency may owe two (a filing and an energy review)."""
    owed: dict[tuple[str, str, str], TransitionSpec] = {}
    for spec in definition.transitions_from(project.status.value):
        if not spec.time_limit or spec.agency_kind is None or spec.trigger in NEGATIVE:
            continue
        ctx = RuleContext(project=project, actor=None, definition=definition, today=today,
                          probing=True, acting_role=spec.role)
        if spec.when and not BRANCHES[spec.when](ctx):
            continue
        if any(GUARDS[name](ctx) for name in spec.guards):
            continue
        owed.setdefault((spec.role, spec.level_key, spec.trigger), spec)
    return owed


def reschedule(project, definition: Definition, source: Status,
               fired: TransitionSpec | None, today: date, now: datetime) -> list:
    """Bring the project's deadlines up to date after `fired` moved it from `source`;
    returns the deadlines this opened (whose agencies are now to be told). A step still owed
    in the new stage (a preliminary procedure beside the filing) keeps its clock."""
    rows = {(row.role, row.level, row.trigger): row for row in project.deadlines}
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
    if project.status in ENDED:
        project.deadlines.clear()
        return []
    owed = owed_steps(definition, project, today)
    fired_key = (fired.role, fired.level_key, fired.trigger) if fired else None
    for key, row in rows.items():
        if key not in owed:
            project.deadlines.remove(row)
        elif key == fired_key and row.met_at is None:
            row.met_at = now  # an in-stage step done (e.g. whitelisted); its clock stops
    opened = []
    for key, spec in owed.items():
        if key not in rows:
            days = time_limit(definition, spec, project.jurisdiction_code, today).value
            deadline = project.new_deadline(
                role=spec.role, level=key[1], trigger=spec.trigger, started_on=today,
                sla_days=days, used_days=resumed,
                due_on=add_working_days(today, max(days - resumed, 0)))
            opened.append(deadline)
    project.deadlines.extend(opened)
    return opened


@dataclass(frozen=True)
class Stay:
    """A project's stay in one status, closed by a step (reports of time per step read
    these, never the audit trail)."""

    status: str
    working_days: int
    place: dict  # jurisdiction_code and batch_year (0: none) where the stay counts


def time_limit(definition: Definition, spec: TransitionSpec, place: str, on: date) -> Figure:
    """A step's time limit in working days where the project lies: the agency's own setting
    if it made one, else the definition's default (both `local`: no document sets one)."""
    setting = definition.time_limit(spec)
    return resolve(f"time_limit:{setting.name}", setting.days, setting.basis, place, on, int)


def close_stay(project, status: Status, now: datetime) -> tuple[Insert, Stay]:
    """The project's stay in `status`, which began when its status last changed, ends now:
    its row, with the working days it lasted."""
    entered = project.original("status_changed_at")
    days = working_days_between(china_date(entered), china_date(now))
    place = {"jurisdiction_code": project.jurisdiction_code,
             "batch_year": project.batch_year or 0}
    row = Insert(StageTime.__table__, {"project_id": project.id, "status": status.value,
                                       "entered_at": entered, "left_at": now,
                                       "working_days": days, **place})
    return row, Stay(status.value, days, place)


WRITTEN_COLUMNS = tuple(c.key for c in Deadline.__table__.columns if c.key != "id")


def deadline_writes(project) -> list:
    """The deadline rows that the decision added, changed or removed, against those read.

    A new deadline for the same step (role, level and trigger) as one that went takes over its
    row, so the step's one row is never removed and added in the same statement."""
    loaded = project.loaded_deadlines
    kept = {d.id for d in project.deadlines if d.id is not None}
    gone = {(values["role"], values["level"], values["trigger"]): row_id
            for row_id, values in loaded.items() if row_id not in kept}
    table = Deadline.__table__
    writes = []
    for deadline in project.deadlines:
        deadline.project_id = project.id
        values = {c: getattr(deadline, c) for c in WRITTEN_COLUMNS}
        row_id = deadline.id or gone.pop((deadline.role, deadline.level, deadline.trigger), None)
        if row_id is None:
            writes.append(Insert(table, values))
            continue
        before = loaded[row_id]
        changed = {c: v for c, v in values.items() if before[c] != v}
        if changed:
            writes.append(Update(table, {"id": row_id}, changed))
    writes += [Delete(table, {"id": row_id}) for row_id in gone.values()]
    return writes
