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
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import contains_eager, joinedload

from ..access import is_agency, owed_condition, within
from ..errors import Invalid
from ..extensions import db
from ..i18n import gettext as _
from ..models import Deadline, OrgKind, Project, User
from ..projects.operations import MAX_ID
from ..projects.regions import find_place

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


def _base(user: User, filters: QueueFilter, today: date, *, with_step: bool = True,
          projects: bool = True):
    """The owed rows the filters select; `projects=False`: joined to their projects only
    where a filter or the owed condition asks of them (an agency's need not)."""
    query = select(Deadline).where(owed_condition(user, today))
    if projects or _asks_of_projects(user, filters):
        query = query.join(Project, Deadline.project_id == Project.id)
    if with_step and filters.step:
        query = query.where(Deadline.trigger == filters.step)
    if filters.industry:
        query = query.where(Project.industry == filters.industry)
    if filters.year:
        query = query.where(Project.batch_year == filters.year)
    if filters.overdue:
        query = query.where(Deadline.due_on < today)
    if filters.region:
        place = find_place(user, filters.region)
        if place is None:
            raise Invalid(_("Unknown region."), fields={"region": _(
                "No region of that name or code; choose one from the list.")})
        query = query.where(within(place))
    return query


def _asks_of_projects(user: User, filters: QueueFilter) -> bool:
    return not is_agency(user) or bool(filters.industry or filters.year or filters.region)


def queue(user: User, filters: QueueFilter, today: date, *, limit: int = 50,
          cursor: str | None = None) -> tuple[list[Deadline], str | None]:
    columns, descending = _sort(user, filters.sort)
    # ordered by the owed rows' own columns, and nothing asked of their projects: the page's
    # rows are chosen from the rows alone, and only their projects read (at 10⁶ projects a
    # city's queue holds tens of thousands of rows)
    own_rows = not _asks_of_projects(user, filters) and all(
        c.table is Deadline.__table__ for c in columns)
    query = _base(user, filters, today, projects=not own_rows)
    if cursor:
        values = tuple(decode(cursor, columns[0]))
        after = tuple_(*columns) < values if descending else tuple_(*columns) > values
        query = query.where(after)
    order = [c.desc() for c in columns] if descending else list(columns)
    if own_rows:
        page = query.with_only_columns(Deadline.id).order_by(*order).limit(limit + 1).subquery()
        query = (select(Deadline).join(page, Deadline.id == page.c.id)
                 .join(Project, Deadline.project_id == Project.id))
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


def late_reports(project_ids, today: date) -> set[int]:
    """Which of these projects owe a monthly progress report past its due day (amber)."""
    if not project_ids:
        return set()
    return set(db.session.scalars(select(Deadline.project_id).where(
        Deadline.project_id.in_(list(project_ids)), Deadline.trigger == "report_progress",
        Deadline.met_at.is_(None), Deadline.due_on < today)))


def step_counts(user: User, filters: QueueFilter, today: date) -> list[tuple[str, int, int]]:
    """(step, owed, overdue) for the filters other than the step itself."""
    base = _base(user, filters, today, with_step=False, projects=False).subquery()
    rows = db.session.execute(select(
        base.c.trigger, func.count(), func.sum((base.c.due_on < today).cast(db.Integer)))
        .group_by(base.c.trigger).order_by(base.c.trigger))
    return [(trigger, total, int(late or 0)) for trigger, total, late in rows]


def encode(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode(cursor: str, first_column=None) -> list:
    """The cursor's two values (the sort column's and the owed row's id), each of the kind
    its column holds; any other cursor is refused, naming it."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != 2:
            raise ValueError
        first, second = values
        if not _an_id(second):
            raise ValueError
        if isinstance(first, str) and len(first) == 10 and first[4] == "-":
            first = date.fromisoformat(first)
        if first_column is not None and not _fits(first_column, first):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise Invalid(_("Invalid cursor."), fields={"cursor": _("Invalid cursor.")}) from None
    return [first, second]


def _an_id(value) -> bool:
    return type(value) is int and 0 < value <= MAX_ID


def _fits(column, value) -> bool:
    if column is Project.id:
        return _an_id(value)
    if column is Project.total_investment:
        try:
            amount = Decimal(value) if isinstance(value, str) else None
        except InvalidOperation:
            return False
        return amount is not None and amount.is_finite() and abs(amount) < 10**12
    return isinstance(value, date)
