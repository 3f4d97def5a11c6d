"""Everyone's queue: the steps a person owes now — an agency clerk's role on projects in
their jurisdiction, an enterprise's and a bank's own.

Read from the deadlines table (one row per owed step, kept true by the engine after every
step; indexed by role and due date, and by owing organisation) through `access.owed_condition`,
so the queue never evaluates workflows project by project and gives the project page's
answer.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import contains_eager, joinedload

from ..access import owed_condition, within
from ..errors import Invalid
from ..extensions import db
from ..i18n import gettext as _
from ..models import Deadline, Jurisdiction, OrgKind, Project, User

SORTS = {
    # name: (columns, descending)
    "due": ((Deadline.due_on, Deadline.id), False),
    "newest": ((Project.id, Deadline.id), True),
    "investment": ((Project.total_investment, Deadline.id), True),
}
# An enterprise's and a bank's steps have no due day: the longest waiting come first.
UNTIMED_DUE = ((Deadline.started_on, Deadline.id), False)


@dataclass
class QueueFilter:
    step: str | None = None
    industry: str | None = None
    region: str | None = None
    year: int | None = None
    overdue: bool = False
    sort: str = "due"

    @classmethod
    def from_args(cls, args) -> "QueueFilter":
        """The filters as a page's or the API's query string gives them (so a view can be
        bookmarked); a year that is not one is refused, naming the field."""
        year = args.get("year") or None
        if year is not None and not (year.isdigit() and 2000 <= int(year) <= 2100):
            raise Invalid(_("The request is not valid."),
                          fields={"year": _("Must be a whole number from %(low)s to %(high)s.",
                                            low=2000, high=2100)})
        sort = args.get("sort")
        return cls(step=args.get("step") or None, industry=args.get("industry") or None,
                   region=args.get("region") or None, year=int(year) if year else None,
                   overdue=args.get("overdue") in ("1", "true", "on", "y"),
                   sort=sort if sort in SORTS else "due")


def _sort(user: User, name: str):
    columns = SORTS.get(name, SORTS["due"])
    if columns is SORTS["due"] and user.organization.kind != OrgKind.AGENCY:
        return UNTIMED_DUE
    return columns


def _base(user: User, filters: QueueFilter, today: date, *, with_step: bool = True):
    query = (select(Deadline).join(Project, Deadline.project_id == Project.id)
             .where(owed_condition(user, today)))
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
    columns, descending = _sort(user, filters.sort)
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
        column = columns[0]
        first = (last.project.id if column is Project.id
                 else str(last.project.total_investment or 0) if column is Project.total_investment
                 else getattr(last, column.key).isoformat())
        next_cursor = encode((first, last.id))
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
