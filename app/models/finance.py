"""Financing: list membership, lead-bank claims and loans."""

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Fraction, WanYuan, utcnow
from .org import Organization, User, _enum


class ListEntry(Base):
    """Membership of a project in one list (e.g. the relending list) and batch."""

    __tablename__ = "list_entries"
    __table_args__ = (
        Index("uq_list_entries_membership", "project_id", "list_key", "batch", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    list_key: Mapped[str] = mapped_column(String(64))
    batch: Mapped[str] = mapped_column(String(64))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ClaimStatus(enum.StrEnum):
    OPEN = "open"
    DECLINED = "declined"
    DESIGNATED = "designated"


class BankClaim(Base):
    """A bank's claim to be a project's lead bank (主办行), decided by the designating agency.

    The partial unique indexes are the database's own guarantee of one open claim and one
    designated lead bank per project, whatever the application code does.
    """

    __tablename__ = "bank_claims"
    __table_args__ = (
        Index("uq_bank_claims_one_open", "project_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
        Index("uq_bank_claims_one_lead", "project_id", unique=True,
              sqlite_where=text("status = 'designated'"),
              postgresql_where=text("status = 'designated'")),
        # A project's claims of every status (its page, a bank's access to it).
        Index("ix_bank_claims_project", "project_id", "bank_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    bank_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[ClaimStatus] = mapped_column(_enum(ClaimStatus, "claim_status"))
    claimed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    comment: Mapped[str | None] = mapped_column(Text)

    bank: Mapped[Organization] = relationship(foreign_keys=[bank_id], lazy="joined")
    claimed_by: Mapped[User] = relationship(foreign_keys=[claimed_by_id])


class IntendedBank(Base):
    """A bank the enterprise would like to borrow from (at most a few, in its order)."""

    __tablename__ = "intended_banks"
    __table_args__ = (UniqueConstraint("project_id", "bank_id", name="uq_intended_banks_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    position: Mapped[int] = mapped_column(Integer)

    bank: Mapped[Organization] = relationship(lazy="joined")


class Engagement(Base):
    """One bank's progress with one project: interest (对接) → credit (授信) → contract (签约);
    its drawdowns (放款) are the loans."""

    __tablename__ = "engagements"
    __table_args__ = (
        UniqueConstraint("project_id", "bank_id", name="uq_engagements_pair"),
        CheckConstraint("credit_amount_yuan IS NULL OR credit_amount_yuan > 0", name="credit"),
        CheckConstraint("contract_amount_yuan IS NULL OR (credit_amount_yuan IS NOT NULL "
                        "AND contract_amount_yuan <= credit_amount_yuan)", name="contract"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    interested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    credit_amount: Mapped[Decimal | None] = mapped_column("credit_amount_yuan", WanYuan)
    credit_approved_on: Mapped[date | None] = mapped_column(Date)
    contract_amount: Mapped[Decimal | None] = mapped_column("contract_amount_yuan", WanYuan)
    contract_signed_on: Mapped[date | None] = mapped_column(Date)
    contract_number: Mapped[str | None] = mapped_column(String(64))
    contract_term_months: Mapped[int | None] = mapped_column(Integer)

    bank: Mapped[Organization] = relationship(lazy="joined")


class Loan(Base):
    """A drawdown (放款) under a bank's contract.

    `refinanced_on`: the people's bank refinanced it under the relending tool ("lend first,
    refinance after"); `other_subsidy`: another programme already subsidises its interest,
    so no second subsidy is counted.
    """

    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint("amount_yuan > 0", name="amount_positive"),
        CheckConstraint("supplier_paid_date IS NULL OR supplier_paid_date >= drawdown_date",
                        name="paid_after_drawdown"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    amount: Mapped[Decimal] = mapped_column("amount_yuan", WanYuan)
    drawdown_date: Mapped[date] = mapped_column(Date)
    supplier_paid_date: Mapped[date | None] = mapped_column(Date)
    term_months: Mapped[int | None] = mapped_column(Integer)
    refinanced_on: Mapped[date | None] = mapped_column(Date)
    other_subsidy: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The loan's relending and subsidy figures, worked out by the step that recorded or
    # refinanced it from the parameters then in force (rules/finance.py) and kept: the page,
    # the loan book and (through the project's sums) the dashboard all read these.
    relending_principal: Mapped[Decimal | None] = mapped_column("relending_principal_yuan",
                                                                WanYuan)
    subsidy: Mapped[Decimal | None] = mapped_column("subsidy_yuan", WanYuan)
    relending_share: Mapped[Decimal | None] = mapped_column("relending_share_ppm", Fraction)
    relending_rate: Mapped[Decimal | None] = mapped_column("relending_rate_ppm", Fraction)
    subsidy_points: Mapped[Decimal | None] = mapped_column("subsidy_points_ppm", Fraction)
    subsidy_months: Mapped[int | None] = mapped_column(Integer)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    bank: Mapped[Organization] = relationship(lazy="joined")
