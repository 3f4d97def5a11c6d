"""Subsidy claims as each reader sees them, and the ledger: per project, claimant, programme
and period, what was claimed, approved, paid and clawed back. A bank sees the claims it filed,
an enterprise its projects' claims, an agency those in its jurisdiction."""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import access
from ..extensions import db
from ..models import OrgKind, Project, SubsidyClaim, SubsidyStatus, User

LIMIT = 1000


def _visible(query, user: User, project_id: int | None, programme: str | None,
             period: str | None):
    query = query.join(Project, SubsidyClaim.project_id == Project.id).where(
        access.visible_condition(user))
    if user.organization.kind == OrgKind.BANK:
        query = query.where(SubsidyClaim.claimant_id == user.organization_id)
    if project_id is not None:
        query = query.where(SubsidyClaim.project_id == project_id)
    if programme:
        query = query.where(SubsidyClaim.programme == programme)
    if period:
        query = query.where(SubsidyClaim.period == period)
    return query


def claims_for(user: User, *, project_id: int | None = None, programme: str | None = None,
               period: str | None = None, limit: int = LIMIT) -> list[tuple[SubsidyClaim, Project]]:
    query = _visible(select(SubsidyClaim, Project), user, project_id, programme, period)
    return list(db.session.execute(query.options(joinedload(Project.enterprise)).order_by(
        SubsidyClaim.period, SubsidyClaim.id).limit(limit)).all())


def totals_for(user: User, *, project_id: int | None = None, programme: str | None = None,
               period: str | None = None) -> "Totals":
    """The totals of every claim the filters select — not only the first LIMIT listed."""
    sums = [func.sum(column).label(name) for name, column in (  # typed: read in 万元
        ("claimed", SubsidyClaim.claimed), ("approved", SubsidyClaim.approved),
        ("paid", SubsidyClaim.paid), ("clawed_back", SubsidyClaim.clawed_back))]
    row = db.session.execute(_visible(select(*sums).select_from(SubsidyClaim), user, project_id,
                                      programme, period)
                             .where(SubsidyClaim.status != SubsidyStatus.RETURNED)).one()
    return Totals(**{name: getattr(row, name) or Decimal(0) for name in (
        "claimed", "approved", "paid", "clawed_back")})


@dataclass
class Totals:
    """A ledger's sums; a returned claim counts nowhere until corrected."""

    claimed: Decimal = Decimal(0)
    approved: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    clawed_back: Decimal = Decimal(0)

