"""What each kind of user sees first: what waits for them."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..access import visible_condition
from ..extensions import db
from ..labels import step_label
from ..models import ListEntry, OrgKind, Project, Status, User, WorkflowEvent
from .people import officer_counts
from .queue import QueueFilter, queue, step_counts


@dataclass
class Workbench:
    kind: str = ""  # whose workbench: enterprise | agency | bank | operator
    to_do: list = field(default_factory=list)  # (project, [step labels]) or overdue rows
    recent: list = field(default_factory=list)
    events: list = field(default_factory=list)  # the latest steps on projects the user sees
    counts: list = field(default_factory=list)  # (step, owed, overdue): the queue's tabs
    totals: dict = field(default_factory=dict)
    officers: list = field(default_factory=list)  # per officer of an agency: held, taken


def workbench(user: User, today: date) -> Workbench:
    """What waits for the user: the same owed steps as their queue, counted and listed."""
    kind = user.organization.kind
    if kind not in (OrgKind.ENTERPRISE, OrgKind.AGENCY, OrgKind.BANK):
        return Workbench(kind=str(kind), events=recent_events(user))
    counts = step_counts(user, QueueFilter(), today)
    board = Workbench(kind=str(kind), counts=counts,
                      totals={"owed": sum(c[1] for c in counts),
                              "overdue": sum(c[2] for c in counts)})
    if kind == OrgKind.AGENCY:
        board.to_do, _cursor = queue(user, QueueFilter(overdue=True), today, limit=10)
        board.events = recent_events(user)
        board.officers = officer_counts(user, today)
        return board
    rows, _cursor = queue(user, QueueFilter(), today, limit=100)
    board.to_do = _by_project(rows)
    if kind == OrgKind.ENTERPRISE:
        board.recent = _recent(user)
    else:
        org = user.organization
        board.recent = list(db.session.scalars(
            select(Project).where(Project.lead_bank_id == org.id)
            .order_by(Project.updated_at.desc()).limit(50)))
        board.totals["market"] = db.session.scalar(select(func.count()).select_from(Project).where(
            visible_condition(user), Project.status == Status.FINANCING_MATCHMAKING,
            Project.id.in_(select(ListEntry.project_id))))
    return board


def _by_project(rows) -> list[tuple[Project, list[str]]]:
    """Owed rows gathered by project, in queue order: each project with its steps' names."""
    found: dict[int, tuple[Project, list[str]]] = {}
    for row in rows:
        found.setdefault(row.project_id, (row.project, []))[1].append(step_label(row.trigger))
    return list(found.values())


def _recent(user: User, limit: int = 10) -> list[Project]:
    return list(db.session.scalars(select(Project).where(visible_condition(user))
                                   .options(joinedload(Project.enterprise))
                                   .order_by(Project.updated_at.desc(), Project.id.desc())
                                   .limit(limit)))


def recent_events(user: User, limit: int = 10) -> list[tuple[WorkflowEvent, Project]]:
    """The latest steps taken on the projects the user may see, newest first. Bounded: the
    events of the `limit` most recently changed visible projects (each found by its
    project's index), not a walk down the whole audit trail."""
    projects = select(Project.id).where(visible_condition(user)) \
        .order_by(Project.updated_at.desc(), Project.id.desc()).limit(limit)
    return list(db.session.execute(
        select(WorkflowEvent, Project).join(Project, Project.id == WorkflowEvent.project_id)
        .where(WorkflowEvent.project_id.in_(projects.scalar_subquery()))
        .order_by(WorkflowEvent.created_at.desc(), WorkflowEvent.id.desc()).limit(limit)).tuples())
