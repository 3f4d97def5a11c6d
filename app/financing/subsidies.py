"""Subsidy claims as each reader sees them, and the ledger: per project, claimant, programme
and period, what was claimed, approved, paid and clawed back. A bank sees the claims it filed,
an enterprise its projects' claims, an agency those in its jurisdiction."""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import access
from ..extensions import db
from ..models import OrgKind, Project, SubsidyClaim, User

LIMIT = 1000


def claims_for(user: User, *, project_id: int | None = None, programme: str | None = None,
               period: str | None = None, limit: int = LIMIT) -> list[tuple[SubsidyClaim, Project]]:
    query = (select(SubsidyClaim, Project).join(Project, SubsidyClaim.project_id == Project.id)
             .where(access.visible_condition(user)).options(joinedload(Project.enterprise))
             .order_by(SubsidyClaim.period, SubsidyClaim.id).limit(limit))
    if user.organization.kind == OrgKind.BANK:
        query = query.where(SubsidyClaim.claimant_id == user.organization_id)
    if project_id is not None:
        query = query.where(SubsidyClaim.project_id == project_id)
    if programme:
        query = query.where(SubsidyClaim.programme == programme)
    if period:
        query = query.where(SubsidyClaim.period == period)
    return list(db.session.execute(query).all())


@dataclass
class Totals:
    claimed: Decimal = Decimal(0)
    approved: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    clawed_back: Decimal = Decimal(0)

    def add(self, claim: SubsidyClaim) -> None:
        """A returned claim counts nowhere until corrected (its amount is not claimed)."""
        if claim.status.value == "returned":
            return
        self.claimed += claim.claimed
        self.approved += claim.approved or 0
        self.paid += claim.paid or 0
        self.clawed_back += claim.clawed_back or 0


def totals(rows) -> Totals:
    found = Totals()
    for claim, _project in rows:
        found.add(claim)
    return found
