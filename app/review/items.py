"""Items to follow (容缺受理) not supplied by their due day: the daily check returns the
project to the enterprise with the reason.

An agency that accepted a declaration with named documents missing, under the enterprise's
written commitment, set their due day (a `local` number of working days its definition
names). The enterprise owes them like any step (reminded before the day by the reminders
run). The day after the due day, if any is still missing, the project goes back to the
enterprise: an audit-only step (`items_lapsed`) by the system through the one step writer,
moving the project to `returned` with the reason, so the review starts again once it is
resubmitted. A second run, or two at once, change nothing more; the day is injectable
(`flask items check --today`).
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from ..accounts.operations import system_user
from ..errors import Conflict
from ..extensions import db
from ..models import Project, Status
from ..rules.resend import items_of, items_overdue, overdue_reason, review_again
from ..workflow import workflows
from ..workflow.vocabulary import ITEMS_LAPSED

OWING = (Status.COMMITMENT_FILING, Status.FINANCING_MATCHMAKING, Status.LEAD_BANK_DESIGNATED)


@dataclass
class Run:
    returned: list[tuple[int, str]] = field(default_factory=list)  # (project id, reason)


def check(today: date) -> Run:
    """Return, once each, the projects whose items to follow were due before `today`."""
    done = Run()
    actor = system_user()
    ids = db.session.scalars(select(Project.id).where(
        Project.status.in_(OWING), Project.items_to_follow.is_not(None),
        Project.items_due_on < today).order_by(Project.id)).all()
    for project_id in ids:
        project = db.session.get(Project, project_id)
        reason = overdue_reason(project)
        if lapse(project, reason, actor, today):
            done.returned.append((project_id, reason))
    return done


def lapse(project: Project, reason: str, actor, today: date) -> bool:
    """Return one project for its missing items (False if they were supplied meanwhile, or
    another run returned it first)."""

    def change(state, changes):
        if state.status not in OWING or not items_overdue(state, today):
            raise Conflict("supplied or returned already")
        missing = items_of(state)
        review_again(state)
        return {"items": missing}

    try:
        workflows().record(project, ITEMS_LAPSED, actor, version=None, change=change,
                           today=today, dest=Status.RETURNED, comment=reason)
    except Conflict:
        db.session.rollback()
        return False
    return True
