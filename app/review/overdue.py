"""Overdue steps, per agency, among the projects a user may see."""

from collections import Counter
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from ..access import visible_condition
from ..extensions import db
from ..models import Deadline, Project, User


def overdue(user: User, today: date, limit: int = 500) -> list[Deadline]:
    """Unmet deadlines past their due date, oldest first, on projects `user` may see."""
    query = (select(Deadline).join(Project, Deadline.project_id == Project.id)
             .where(Deadline.met_at.is_(None), Deadline.due_on < today, visible_condition(user))
             .options(contains_eager(Deadline.project).joinedload(Project.enterprise),
                      joinedload(Deadline.project, Project.jurisdiction))
             .order_by(Deadline.due_on, Deadline.id).limit(limit))
    return list(db.session.scalars(query).unique())


def overdue_by_agency(rows: list[Deadline]) -> list[tuple[str, str, int]]:
    """(role, level, count), most overdue steps first: who is the bottleneck."""
    counts = Counter((row.role, row.level) for row in rows)
    return [(role, level, n) for (role, level), n in counts.most_common()]
