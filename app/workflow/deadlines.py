"""Who owes what now: the steps a project is waiting for, and the working day each agency's
step is due.

A step is owed when its guards pass (e.g. filing is owed once the commitment is signed, a
lead-bank decision once a bank has claimed, a refinancing confirmation while a loan awaits
it) — by an agency role, by the enterprise, or by one bank (its credit decision, its
contract). The engine brings the rows up to date after every step, so a step that becomes
possible without a change of status is owed at once, and one no longer possible is owed by
nobody. An agency's clock starts the day its step is owed and counts working
days on China's official calendar. A return to the enterprise pauses the clock: the days
used are kept and, when the enterprise resubmits into the same stage, only the rest remain.
Negative decisions (return, reject …) share the limit of the step they decide on.
"""

from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace

from ..models import Deadline, StageTime, Status, china_date
from ..rules import BRANCHES, GUARDS, RuleContext
from ..rules.calendar import add_working_days, working_days_between
from ..rules.guards import engaged_banks
from ..rules.progress import due_on, owed_month, report_day, reported_months
from ..rules.settings import Figure, resolve
from . import joint
from .changeset import Delete, Insert, Update
from .definitions import Definition, TransitionSpec
from .vocabulary import TRIGGERS

NEGATIVE = frozenset({"return", "reject", "withdraw", "decline_claim", "refuse_change",
                      "return_completion", "fail_completion", "return_claim", "claw_back",
                      "send_back"})
# Where a project waits for nobody — but the agencies still owe the decisions on its subsidy
# claims (a completed project's last quarters, a claim filed before acceptance failed).
ENDED = frozenset({Status.REJECTED, Status.WITHDRAWN, Status.COMPLETED, Status.FAILED,
                   Status.EXITED})
AFTER_END = frozenset({"approve_subsidy", "record_payout"})
# Steps owed again after they are taken, for as long as their guards pass (each monthly
# report, each problem's answer): taking one closes its row and opens the next.
RECURRING = frozenset({"report_progress", "answer_problem"})
# Steps taken per subsidy claim: one claim decided, the row stays open (its clock running
# from the oldest claim waiting) while another claim of the project still waits for it.
PER_CLAIM = frozenset({"approve_subsidy", "record_payout"})


def _report_due(project, definition: Definition, today: date) -> date | None:
    """The enterprise's monthly report: due by the Nth working day after the owed month."""
    month = owed_month(project, reported_months(project))
    if month is None:
        return None
    return due_on(month, report_day(definition, project.jurisdiction_code, today))


def _items_due(project, definition: Definition, today: date) -> date | None:
    """The items to follow (容缺): due by the day set when they were accepted as missing."""
    return project.items_due_on


# The due day of a step that no agency's time limit times: worked out from the project.
DUE_RULES = {"report_progress": _report_due, "supply_items": _items_due}

# An owed step: (role, level, trigger, owing organisation — none for an agency role).
Key = tuple[str, str, str, int | None]


def key_of(row) -> Key:
    return (row.role, row.level, row.trigger, row.org_id)


def owed_steps(definition: Definition, project, today: date) -> dict[Key, TransitionSpec]:
    """Every step `project` now waits for: an agency role's at its levels (one agency may owe
    two, a filing and an energy review), the enterprise's, and each engaged bank's own next
    step. A step is owed when the vocabulary says someone owes it (not an option beside
    what is owed: a return, a bank's offer) and its branch and guards pass as far as they
    are judged without the person (probing) — the same rules the engine applies when the
    step is taken, so the queue and the project page give one answer."""
    owed: dict[Key, TransitionSpec] = {}
    banks = None
    for spec in definition.transitions_from(project.status.value):
        if not TRIGGERS[spec.trigger].owed:
            continue
        if spec.agency_kind is not None:
            holders = [(spec.level_key, None, None)]
        elif spec.role == "enterprise":
            holders = [("", project.enterprise_id, None)]
        elif spec.role in ("bank", "lead_bank"):
            if banks is None:
                banks = engaged_banks(project)
            ids = banks if spec.role == "bank" else [project.lead_bank_id] * bool(
                project.lead_bank_id)
            holders = [("", bank_id, SimpleNamespace(organization_id=bank_id))
                       for bank_id in ids]
        else:
            continue
        for level, org_id, actor in holders:
            key = (spec.role, level, spec.trigger, org_id)
            if key in owed:
                continue
            ctx = RuleContext(project=project, actor=actor, definition=definition, today=today,
                              probing=True, acting_role=spec.role)
            if spec.when and not BRANCHES[spec.when](ctx):
                continue
            if any(GUARDS[name](ctx) for name in spec.guards):
                continue
            owed[key] = spec
    return owed


def reschedule(project, definition: Definition, source: Status | None,
               fired: TransitionSpec | None, today: date, now: datetime) -> list:
    """Bring the project's owed steps up to date after `fired` moved it from `source` (none:
    it was just created); returns the rows this opened (whose holders are now to be told).
    A step still owed in the new stage (a preliminary procedure beside the filing) keeps its
    clock; a return to the enterprise pauses the agencies' clocks."""
    rows = {key_of(row): row for row in project.deadlines}
    resumed = 0
    if project.status == Status.RETURNED and source not in (None, Status.RETURNED):
        project.clock_used_days = max((row.used_days + working_days_between(row.started_on, today)
                                       for row in rows.values()
                                       if row.met_at is None and row.sla_days is not None),
                                      default=0)
        project.clock_paused_state = source.value
    else:
        if source == Status.RETURNED and project.clock_paused_state == project.status.value:
            resumed = project.clock_used_days
        if source is not None and project.status != source:
            project.clock_used_days, project.clock_paused_state = 0, None
    owed = owed_steps(definition, project, today)
    if project.status in ENDED:
        owed = {key: spec for key, spec in owed.items() if key[2] in AFTER_END}
    fired_key = (fired.role, fired.level_key, fired.trigger, None) if fired else None
    taken = fired.trigger if fired and fired.trigger in RECURRING else None
    # an objection or a move ends the signatures of a joint step (会签) so far
    lapse = (fired is not None and fired.trigger in NEGATIVE) or (
        source is not None and project.status != source)
    for key, row in list(rows.items()):
        if key not in owed or key[2] == taken or (
                lapse and row.met_at is not None and joint.on_project(owed[key])):
            project.deadlines.remove(row)
            del rows[key]
        elif key == fired_key and row.met_at is None and key[2] not in PER_CLAIM:
            row.met_at = now  # an in-stage step done (e.g. whitelisted); its clock stops
        elif key[2] in DUE_RULES:
            row.due_on = DUE_RULES[key[2]](project, definition, today)
    opened = []
    for key, spec in owed.items():
        if key not in rows:
            role, level, trigger, org_id = key
            timed = spec.agency_kind is not None and spec.time_limit
            days = time_limit(definition, spec, project.jurisdiction_code, today).value \
                if timed else None
            due = (add_working_days(today, max(days - resumed, 0)) if timed
                   else DUE_RULES[trigger](project, definition, today)
                   if trigger in DUE_RULES else None)
            deadline = project.new_deadline(
                role=role, level=level, trigger=trigger, org_id=org_id, started_on=today,
                sla_days=days, used_days=resumed if timed else 0, due_on=due)
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
    gone = {(values["role"], values["level"], values["trigger"], values["org_id"]): row_id
            for row_id, values in loaded.items() if row_id not in kept}
    table = Deadline.__table__
    writes = []
    for deadline in project.deadlines:
        deadline.project_id = project.id
        values = {c: getattr(deadline, c) for c in WRITTEN_COLUMNS}
        row_id = deadline.id or gone.pop(key_of(deadline), None)
        if row_id is None:
            writes.append(Insert(table, values))
            continue
        before = loaded[row_id]
        changed = {c: v for c, v in values.items() if before[c] != v}
        if changed:
            writes.append(Update(table, {"id": row_id}, changed))
    writes += [Delete(table, {"id": row_id}) for row_id in gone.values()]
    return writes
