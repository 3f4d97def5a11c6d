"""Reminders before a time limit runs out, and escalation once it has.

A scheduled run (`flask reminders run`, daily) looks at the agencies' open steps: one due
within the reminder lead (working days, a local setting) reminds those who owe it; one past
its due day is escalated to the same kind of agency one level up (county → city →
province), whose dashboard then lists it. Each happens once per step, as an audit-only step
of the project (`remind`, `escalate`) written by the system through the one step writer, so
it is in the audit trail and its notifications (and e-mail) go with it. A second run, or two
at once, change nothing more.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from ..accounts.operations import system_user
from ..errors import Conflict
from ..extensions import db
from ..models import Deadline, Organization, OrgKind, Project, ancestor_codes, utcnow
from ..models.org import place_level
from ..rules.calendar import working_days_left
from ..rules.parameters import figure
from ..workflow import workflows
from ..workflow.vocabulary import ESCALATE, REMIND

# An enterprise's steps with a due day that are reminded too: items to follow (容缺).
ENTERPRISE_REMINDED = ("supply_items",)


@dataclass
class Run:
    reminded: list[int] = field(default_factory=list)  # deadline ids
    escalated: list[int] = field(default_factory=list)


def run(today: date) -> Run:
    """Remind and escalate what is due, once each."""
    done = Run()
    actor = system_user()
    rows = db.session.scalars(select(Deadline).where(
        Deadline.met_at.is_(None), Deadline.due_on.is_not(None),
        Deadline.org_id.is_(None) | Deadline.trigger.in_(ENTERPRISE_REMINDED))
        .order_by(Deadline.due_on, Deadline.id)).all()
    for row in rows:
        if row.due_on < today and row.org_id is not None:
            continue  # past their day, items to follow return the project (review/items.py)
        if row.due_on < today and row.escalated_at is None:
            target = escalation_target(row, row.project)
            if target is not None and _mark(row, ESCALATE, actor, today, escalated_to=target):
                done.escalated.append(row.id)
        elif row.due_on >= today and row.reminded_at is None:
            lead = int(figure("reminder_working_days", today, row.jurisdiction_code).value)
            if working_days_left(today, row.due_on) <= lead and _mark(row, REMIND, actor, today):
                done.reminded.append(row.id)
    return done


def escalation_target(row: Deadline, project: Project) -> str | None:
    """The place of the agency of the step's kind one level above the lowest that owes it
    (None at the top, or where no such agency is registered above)."""
    kind = row.role.split(":", 1)[1]
    levels = row.level.split("/") if row.level else None
    chain = ancestor_codes(project.jurisdiction_code)
    present = set(db.session.scalars(select(Organization.jurisdiction_code).where(
        Organization.kind == OrgKind.AGENCY, Organization.agency_kind == kind,
        Organization.jurisdiction_code.in_(chain))))
    owing = [code for code in chain if code in present
             and (levels is None or place_level(db.session, code) in levels)]
    if not owing:
        return None
    above = chain[chain.index(owing[0]) + 1:]
    return next((code for code in above if code in present), None)


def _mark(row: Deadline, kind: str, actor, today: date, escalated_to: str | None = None) -> bool:
    """The audit-only step that marks the row reminded or escalated (False if someone else
    did it first, or the step is no longer owed)."""
    key = (row.role, row.level, row.trigger, row.org_id)
    project, now = row.project, utcnow()

    def change(state, changes):
        found = next((d for d in state.deadlines if (d.role, d.level, d.trigger, d.org_id) == key
                      and d.met_at is None), None)
        if found is None or (found.escalated_at if kind == ESCALATE else found.reminded_at):
            raise Conflict("already done")
        if kind == ESCALATE:
            found.escalated_at, found.escalated_to = now, escalated_to
        else:
            found.reminded_at = now
        return {"role": row.role, "level": row.level, "waiting": row.trigger,
                "due_on": row.due_on.isoformat(), "escalated_to": escalated_to,
                **({"org_id": row.org_id} if row.org_id is not None else {})}

    try:
        workflows().record(project, kind, actor, version=None, change=change, today=today)
    except Conflict:
        db.session.rollback()
        return False
    return True
