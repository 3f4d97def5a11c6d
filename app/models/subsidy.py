"""Fiscal support claims (贴息、奖补): one row per claim, with its status and figures.

A claim covers one project, one programme of the project's document and one period (a
quarter for interest on loans, `once` for a grant). Its life is a series of in-stage steps
on the project (claim, return, approve — by each co-signing agency —, payout, claw-back),
each an audit event of the project; the row keeps where the claim stands.
"""

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, WanYuan, utcnow
from .org import Organization, _enum


class SubsidyStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # awaiting the programme's agencies
    RETURNED = "returned"  # back to the claimant with reasons; a new claim corrects it
    APPROVED = "approved"  # every co-signing agency approved
    PAID = "paid"  # the finance agency paid it


class SubsidyClaim(Base):
    __tablename__ = "subsidy_claims"
    __table_args__ = (
        # One claim per project, programme and period (a returned claim is corrected in place).
        Index("uq_subsidy_claims_period", "project_id", "programme", "period", unique=True),
        Index("ix_subsidy_claims_claimant", "claimant_id", "period"),
        CheckConstraint("claimed_yuan >= 0", name="claimed_not_negative"),
        CheckConstraint("clawed_back_yuan >= 0", name="clawed_back_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(64), unique=True)  # shown: 贴息申请编号
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    workflow_key: Mapped[str] = mapped_column(String(64))
    programme: Mapped[str] = mapped_column(String(64))
    jurisdiction_code: Mapped[str] = mapped_column(String(6), index=True)
    claimant_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    period: Mapped[str] = mapped_column(String(16))  # 2025Q2, or "once"
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)  # the last day counted
    status: Mapped[SubsidyStatus] = mapped_column(_enum(SubsidyStatus, "subsidy_status"))
    claimed: Mapped[Decimal] = mapped_column("claimed_yuan", WanYuan)
    approved: Mapped[Decimal | None] = mapped_column("approved_yuan", WanYuan)
    paid: Mapped[Decimal | None] = mapped_column("paid_yuan", WanYuan)
    paid_on: Mapped[date | None] = mapped_column(Date)
    voucher: Mapped[str | None] = mapped_column(String(64))
    clawed_back: Mapped[Decimal] = mapped_column("clawed_back_yuan", WanYuan, default=Decimal(0))
    # Each loan's days and amount by rate segment (interest), as the claim computed them.
    lines: Mapped[list] = mapped_column(JSON, default=list)
    # The co-signing agencies' approvals so far: [{role, org, user, at}].
    approvals: Mapped[list] = mapped_column(JSON, default=list)
    comment: Mapped[str | None] = mapped_column(Text)  # the last return's or claw-back's reasons
    claimed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    claimant: Mapped[Organization] = relationship(lazy="joined")
