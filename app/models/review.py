"""What agencies record besides decisions: consultation opinions and change filings."""

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .org import Organization, _enum


class Verdict(enum.StrEnum):
    APPROVE = "approve"  # 同意
    OBJECT = "object"  # 不同意


class Opinion(Base):
    """A preliminary procedure's outcome (前期手续: 用地, 节能审查, 环评) recorded by the
    department that handles it, beside the filing (never a condition of it)."""

    __tablename__ = "opinions"
    __table_args__ = (Index("ix_opinions_project_role", "project_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    role: Mapped[str] = mapped_column(String(40))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    verdict: Mapped[Verdict] = mapped_column(_enum(Verdict, "opinion_verdict"))
    reference: Mapped[str | None] = mapped_column(String(64))  # the decision's number (文号)
    decided_on: Mapped[date | None] = mapped_column(Date)
    comment: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    organization: Mapped[Organization] = relationship(lazy="joined")


class ChangeStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class ChangeRequest(Base):
    """A change filing (变更备案): an edit to a filed project that its filing agency must
    register before it takes effect."""

    __tablename__ = "change_requests"
    __table_args__ = (
        Index("uq_change_requests_one_pending", "project_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    changes: Mapped[dict] = mapped_column(JSON)  # field -> new value, JSON types
    reasons: Mapped[list] = mapped_column(JSON)  # why a change filing is needed
    status: Mapped[ChangeStatus] = mapped_column(_enum(ChangeStatus, "change_status"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    filing_number: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
