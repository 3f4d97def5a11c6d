"""Projects and their equipment items."""

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from flask import has_request_context, request
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    exists,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from .base import Base, WanYuan, utcnow
from .org import Jurisdiction, Organization, OrgLink, _enum
from .workflow import Deadline


def _tracked(type_, name: str | None = None):
    """A running total the statistics rollup reads (zero until something adds to it)."""
    args = (name, type_) if name else (type_,)
    return mapped_column(*args, default=0, server_default="0", active_history=True)


class Status(enum.StrEnum):
    DRAFT = "draft"
    DECLARED = "declared"
    RETURNED = "returned"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    COMMITMENT_FILING = "commitment_filing"
    FINANCING_MATCHMAKING = "financing_matchmaking"
    LEAD_BANK_DESIGNATED = "lead_bank_designated"
    COMPLETED = "completed"
    FAILED = "failed"  # completion verification failed: out of the library's completed count
    EXITED = "exited"  # 退库: taken out of the library (stalled, lapsed), counted on its own


# The five stages a project moves through, in order (the progress bar and the statistics).
STAGES = (
    Status.DECLARED,
    Status.COMMITMENT_FILING,
    Status.FINANCING_MATCHMAKING,
    Status.LEAD_BANK_DESIGNATED,
    Status.COMPLETED,
)


class Task(enum.StrEnum):
    """Key tasks (重点任务) of national-miit-2024-53.txt 二."""

    ADVANCED_EQUIPMENT = "advanced_equipment"  # 先进设备更新
    DIGITAL_TRANSFORMATION = "digital_transformation"  # 数字化转型
    GREEN_EQUIPMENT = "green_equipment"  # 绿色装备
    INTRINSIC_SAFETY = "intrinsic_safety"  # 本质安全
    SUPPLY_CAPACITY = "supply_capacity"  # 供给能力


class PolicyClass(enum.StrEnum):
    """The project's class in the industrial-structure adjustment catalogue (产业结构调整指导目录)."""

    ENCOURAGED = "encouraged"  # 鼓励类
    PERMITTED = "permitted"  # 允许类
    RESTRICTED = "restricted"  # 限制类
    ELIMINATED = "eliminated"  # 淘汰类


class ProjectFacts:
    """What rules ask of a project beyond its columns; shared by the ORM `Project` and the
    engine's `ProjectState`, so a rule reads either."""

    __slots__ = ()

    @property
    def needs_financing(self) -> bool:
        return bool(self.financing_need) and self.financing_need > 0

    def linked_to(self, agency_id: int) -> bool:
        """Whether the agency is registered as linked to the project's enterprise (its
        supervising department or shareholder), which bars it from deciding here.

        Asked once per step the agency may take (its role rule); read once per request."""
        from ..extensions import db

        key = (agency_id, self.enterprise_id)
        kept = request.__dict__.setdefault("jigai_links", {}) if has_request_context() else {}
        if key not in kept:
            kept[key] = bool(db.session.scalar(select(exists().where(
                OrgLink.agency_id == agency_id, OrgLink.enterprise_id == self.enterprise_id))))
        return kept[key]


class Project(ProjectFacts, Base):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "status <> 'lead_bank_designated' OR lead_bank_id IS NOT NULL", name="designated_has_bank"
        ),
        CheckConstraint(
            "total_investment_yuan >= 0 AND fixed_asset_investment_yuan >= 0 "
            "AND equipment_investment_yuan >= 0 AND retired_equipment_value_yuan >= 0 "
            "AND financing_need_yuan >= 0",
            name="amounts_not_negative",
        ),
        CheckConstraint(
            "equipment_investment_yuan <= total_investment_yuan "
            "AND fixed_asset_investment_yuan <= total_investment_yuan",
            name="parts_within_total",
        ),
        CheckConstraint("planned_end >= planned_start", name="end_after_start"),
        CheckConstraint("financing_term_months BETWEEN 1 AND 600", name="financing_term"),
        CheckConstraint("status = 'draft' OR workflow_key IS NOT NULL", name="declared_has_workflow"),
        # Lists are pages in id order (newest first, keyset) under a place or an enterprise,
        # often of one status: each such filter has an index ending in id, so a page reads
        # its rows in order and stops.
        Index("ix_projects_province_id", "province_code", "id"),
        Index("ix_projects_city_id", "city_code", "id"),
        Index("ix_projects_county_id", "jurisdiction_code", "id"),
        Index("ix_projects_province_status", "province_code", "status", "id"),
        Index("ix_projects_city_status", "city_code", "status", "id"),
        Index("ix_projects_county_status", "jurisdiction_code", "status", "id"),
        Index("ix_projects_enterprise", "enterprise_id", "id"),
        Index("ix_projects_status_id", "status", "id"),
        Index("ix_projects_industry_id", "industry", "id"),
        Index("ix_projects_year_id", "batch_year", "id"),
        Index("ix_projects_lead_bank", "lead_bank_id", "updated_at"),  # a bank's own projects
        # the daily check of items to follow (容缺) reads only the projects still owing some
        Index("ix_projects_items_due", "items_due_on",
              sqlite_where=text("items_to_follow IS NOT NULL"),
              postgresql_where=text("items_to_follow IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    # County-level location; province and city codes are kept beside it for indexed filters.
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"),
                                                   active_history=True)
    province_code: Mapped[str] = mapped_column(String(6))
    city_code: Mapped[str] = mapped_column(String(6))
    address: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(50))  # 联系人
    contact_phone: Mapped[str | None] = mapped_column(String(30))  # 联系电话

    workflow_key: Mapped[str | None] = mapped_column(String(64))
    workflow_version: Mapped[int | None] = mapped_column(Integer)

    industry: Mapped[str | None] = mapped_column(String(50), active_history=True)
    task: Mapped[Task | None] = mapped_column(_enum(Task, "project_task"))
    policy_class: Mapped[PolicyClass | None] = mapped_column(_enum(PolicyClass, "policy_class"))
    batch_year: Mapped[int | None] = mapped_column(Integer, active_history=True)
    content: Mapped[str | None] = mapped_column(Text)

    total_investment: Mapped[Decimal | None] = mapped_column("total_investment_yuan", WanYuan,
                                                             active_history=True)
    fixed_asset_investment: Mapped[Decimal | None] = mapped_column(
        "fixed_asset_investment_yuan", WanYuan
    )
    equipment_investment: Mapped[Decimal | None] = mapped_column(
        "equipment_investment_yuan", WanYuan, active_history=True
    )
    retired_equipment_value: Mapped[Decimal | None] = mapped_column(
        "retired_equipment_value_yuan", WanYuan
    )
    annual_investment: Mapped[Decimal | None] = mapped_column("annual_investment_yuan", WanYuan,
                                                              active_history=True)
    new_land: Mapped[bool] = mapped_column(Boolean, default=False)
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    financing_need: Mapped[Decimal | None] = mapped_column("financing_need_yuan", WanYuan,
                                                           active_history=True)
    financing_term_months: Mapped[int | None] = mapped_column(Integer)
    financing_purpose: Mapped[str | None] = mapped_column(String(500))
    project_code: Mapped[str | None] = mapped_column(String(24), unique=True)

    status: Mapped[Status] = mapped_column(_enum(Status, "project_status"), active_history=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    declared_at: Mapped[datetime | None] = mapped_column(DateTime, active_history=True)

    commitment_signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    filing_number: Mapped[str | None] = mapped_column(String(64))
    filed_at: Mapped[datetime | None] = mapped_column(DateTime)
    lead_bank_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    recommended_at: Mapped[datetime | None] = mapped_column(DateTime)  # county review passed
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)  # into the library (入库)
    # The enterprise ended financing matchmaking without a loan: on to construction.
    matchmaking_ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Annual energy use, asked for the energy review (节能审查), which smaller projects skip.
    energy_tce: Mapped[int | None] = mapped_column(Integer)
    electricity_kwh: Mapped[int | None] = mapped_column(BigInteger)
    completion_reported_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Reported by the enterprise, then as the agency verified them.
    actual_total_investment: Mapped[Decimal | None] = mapped_column(
        "actual_total_investment_yuan", WanYuan, active_history=True
    )
    actual_equipment_investment: Mapped[Decimal | None] = mapped_column(
        "actual_equipment_investment_yuan", WanYuan
    )
    completed_on: Mapped[date | None] = mapped_column(Date)

    # Construction progress as the latest monthly report (月调度) left it.
    actual_start_on: Mapped[date | None] = mapped_column(Date)
    investment_completed: Mapped[Decimal | None] = mapped_column("investment_completed_yuan",
                                                                 WanYuan)
    percent_complete: Mapped[int | None] = mapped_column(Integer)
    progress_month: Mapped[date | None] = mapped_column(Date)  # the latest month reported
    # Stalled (three missed reports) or lapsed (not started within two years of filing): the
    # warning raised to the accepting agency, until it exits the project or defers its batch.
    stall_warned_at: Mapped[datetime | None] = mapped_column(DateTime)
    stall_reason: Mapped[str | None] = mapped_column(String(16))
    # A deferral to a later batch: misses and the lapse count again from this day.
    progress_reset_on: Mapped[date | None] = mapped_column(Date)

    # Kept with the project for the statistics rollup (reporting/rollup.py): new equipment
    # units, and the sums of its banks' credit, contracts and loans. Every column the rollup
    # reads has active_history, so a change always knows the value it replaces.
    new_units: Mapped[int] = _tracked(Integer)
    credit_total: Mapped[Decimal] = _tracked(WanYuan, "credit_total_yuan")
    contract_total: Mapped[Decimal] = _tracked(WanYuan, "contract_total_yuan")
    drawn_total: Mapped[Decimal] = _tracked(WanYuan, "drawn_total_yuan")
    loan_count: Mapped[int] = _tracked(Integer)
    relending_total: Mapped[Decimal] = _tracked(WanYuan, "relending_total_yuan")
    subsidy_total: Mapped[Decimal] = _tracked(WanYuan, "subsidy_total_yuan")
    # and the sums of its fiscal support claims (returned claims count nowhere)
    claimed_total: Mapped[Decimal] = _tracked(WanYuan, "claimed_total_yuan")
    approved_total: Mapped[Decimal] = _tracked(WanYuan, "approved_total_yuan")
    paid_total: Mapped[Decimal] = _tracked(WanYuan, "paid_total_yuan")
    clawed_back_total: Mapped[Decimal] = _tracked(WanYuan, "clawed_back_total_yuan")

    # 容缺受理: documents the agency accepted the declaration without, owed by the enterprise
    # under its written commitment (the items still missing, one a line) by a working day.
    items_to_follow: Mapped[str | None] = mapped_column(String(2000))
    items_due_on: Mapped[date | None] = mapped_column(Date)
    items_commitment: Mapped[str | None] = mapped_column(String(200))

    # Working days of the current step's time limit used before a return paused its clock.
    clock_used_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    clock_paused_state: Mapped[str | None] = mapped_column(String(32))

    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    enterprise: Mapped[Organization] = relationship(foreign_keys=[enterprise_id])
    lead_bank: Mapped[Organization | None] = relationship(foreign_keys=[lead_bank_id])
    jurisdiction: Mapped[Jurisdiction] = relationship()
    deadlines: Mapped[list["Deadline"]] = relationship(
        cascade="all, delete-orphan", order_by="Deadline.due_on", back_populates="project")
    equipment: Mapped[list["EquipmentItem"]] = relationship(
        back_populates="project", order_by="EquipmentItem.position",
        cascade="all, delete-orphan",
    )

    @validates("jurisdiction_code")
    def _place(self, _key, code: str) -> str:
        self.province_code = code[:2] + "0000"
        self.city_code = code[:4] + "00"
        return code

    @property
    def has_equipment(self) -> bool:
        return bool(self.equipment)


class EquipmentKind(enum.StrEnum):
    NEW = "new"  # to be purchased
    OLD = "old"  # to be retired


class EquipmentItem(Base):
    __tablename__ = "equipment_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("energy_grade IS NULL OR energy_grade BETWEEN 1 AND 3", name="grade"),
        CheckConstraint("unit_price_yuan IS NULL OR unit_price_yuan >= 0", name="price"),
        CheckConstraint("years_in_service IS NULL OR years_in_service >= 0", name="years"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[EquipmentKind] = mapped_column(_enum(EquipmentKind, "equipment_kind"))
    name: Mapped[str] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(200))  # 型号规格
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal | None] = mapped_column("unit_price_yuan", WanYuan)
    years_in_service: Mapped[int | None] = mapped_column(Integer)
    energy_grade: Mapped[int | None] = mapped_column(Integer)

    project: Mapped[Project] = relationship(back_populates="equipment")
