"""What each kind of user sees first: what waits for them."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..access import available_steps, visible_condition
from ..extensions import db
from ..models import BankClaim, ClaimStatus, ListEntry, OrgKind, Project, Status, User
from .queue import QueueFilter, queue, step_counts


@dataclass
class Workbench:
    kind: str = ""  # whose workbench: enterprise | agency | bank | operator
    to_do: list = field(default_factory=list)  # (project, [Available]) or deadlines
    recent: list = field(default_factory=list)
    counts: list = field(default_factory=list)
    totals: dict = field(default_factory=dict)


def workbench(user: User, today: date) -> Workbench:
    kind = user.organization.kind
    if kind == OrgKind.ENTERPRISE:
        board = _enterprise(user)
    elif kind == OrgKind.AGENCY:
        board = _agency(user, today)
    elif kind == OrgKind.BANK:
        board = _bank(user)
    else:
        board = Workbench(recent=_recent(user))
    board.kind = str(kind)
    return board


def _recent(user: User, limit: int = 10) -> list[Project]:
    return list(db.session.scalars(select(Project).where(visible_condition(user))
                                   .options(joinedload(Project.enterprise))
                                   .order_by(Project.updated_at.desc(), Project.id.desc())
                                   .limit(limit)))


def _enterprise(user: User) -> Workbench:
    projects = list(db.session.scalars(
        select(Project).where(Project.enterprise_id == user.organization_id)
        .where(Project.status.not_in([Status.COMPLETED, Status.REJECTED, Status.WITHDRAWN]))
        .order_by(Project.updated_at.desc()).limit(100)))
    to_do = [(p, [a for a in available_steps(user, p) if a.trigger != "withdraw"])
             for p in projects]
    return Workbench(to_do=[(p, acts) for p, acts in to_do if acts], recent=_recent(user))


def _agency(user: User, today: date) -> Workbench:
    counts = step_counts(user, QueueFilter(), today)
    overdue, _cursor = queue(user, QueueFilter(overdue=True), today, limit=10)
    return Workbench(to_do=overdue, counts=counts,
                     totals={"owed": sum(c[1] for c in counts), "overdue": sum(c[2] for c in counts)})


def _bank(user: User) -> Workbench:
    org = user.organization
    leads = list(db.session.scalars(select(Project).where(Project.lead_bank_id == org.id)
                                    .order_by(Project.updated_at.desc()).limit(50)))
    claims = list(db.session.scalars(
        select(Project).join(BankClaim, BankClaim.project_id == Project.id)
        .where(BankClaim.bank_id == org.id, BankClaim.status == ClaimStatus.OPEN)))
    market = db.session.scalar(select(func.count()).select_from(Project).where(
        visible_condition(user), Project.status == Status.FINANCING_MATCHMAKING,
        Project.id.in_(select(ListEntry.project_id))))
    return Workbench(to_do=claims, recent=leads, totals={"market": market})
