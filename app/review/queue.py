"""An agency clerk's queue: the steps their role owes on projects in their jurisdiction.

Read from the deadlines table (one row per owed step, indexed by role and due date), so the
queue never evaluates workflows project by project.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.orm import contains_eager, joinedload

from ..access import visible_condition, within
from ..errors import Invalid
from ..extensions import db
from ..i18n import gettext as _
from ..models import Deadline, Jurisdiction, Project, User

SORTS = {
    # name: (columns, descending)
    "due": ((Deadline.due_on, Deadline.id), False),
    "newest": ((Project.id, Deadline.id), True),
    "investment": ((Project.total_investment, Deadline.id), True),
}


@dataclass
class QueueFilter:
    step: str | None = None
    industry: str | None = None
    region: str | None = None
    year: int | None = None
    overdue: bool = False
    sort: str = "due"


def _owed_by(user: User):
    org = user.organization
    level = org.jurisdiction.level.value
    return (Deadline.role == org.role) & Deadline.met_at.is_(None) & or_(
        Deadline.level == "", Deadline.level.contains(level))


def _base(user: User, filters: QueueFilter, today: date, *, with_step: bool = True):
    query = (select(Deadline).join(Project, Deadline.project_id == Project.id)
             .where(_owed_by(user), visible_condition(user)))
    if with_step and filters.step:
        query = query.where(Deadline.trigger == filters.step)
    if filters.industry:
        query = query.where(Project.industry == filters.industry)
    if filters.year:
        query = query.where(Project.batch_year == filters.year)
    if filters.overdue:
        query = query.where(Deadline.due_on < today)
    if filters.region:
        place = db.session.get(Jurisdiction, filters.region)
        if place is None:
            raise Invalid(_("Unknown jurisdiction."), fields={"region": _("Unknown jurisdiction.")})
        query = query.where(within(place))
    return query


def queue(user: User, filters: QueueFilter, today: date, *, limit: int = 50,
          cursor: str | None = None) -> tuple[list[Deadline], str | None]:
    columns, descending = SORTS.get(filters.sort, SORTS["due"])
    query = _base(user, filters, today)
    if cursor:
        after = tuple_(*columns) < tuple(decode(cursor)) if descending else \
            tuple_(*columns) > tuple(decode(cursor))
        query = query.where(after)
    order = [c.desc() for c in columns] if descending else list(columns)
    query = (query.options(contains_eager(Deadline.project).joinedload(Project.enterprise),
                           joinedload(Deadline.project, Project.jurisdiction))
             .order_by(*order).limit(limit + 1))
    rows = list(db.session.scalars(query).unique())
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        values = {"due": (last.due_on.isoformat(), last.id),
                  "newest": (last.project.id, last.id),
                  "investment": (str(last.project.total_investment or 0), last.id)}
        next_cursor = encode(values.get(filters.sort, values["due"]))
    return rows[:limit], next_cursor


def step_counts(user: User, filters: QueueFilter, today: date) -> list[tuple[str, int, int]]:
    """(step, owed, overdue) for the filters other than the step itself."""
    base = _base(user, filters, today, with_step=False).subquery()
    rows = db.session.execute(select(
        base.c.trigger, func.count(), func.sum((base.c.due_on < today).cast(db.Integer)))
        .group_by(base.c.trigger).order_by(base.c.trigger))
    return [(trigger, total, int(late or 0)) for trigger, total, late in rows]


def encode(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode(cursor: str) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != 2:
            raise ValueError
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid(_("Invalid cursor."), fields={"cursor": _("Invalid cursor.")}) from None
    first, second = values
    if isinstance(first, str) and len(first) == 10 and first[4] == "-":
        first = date.fromisoformat(first)
    return [first, second]
