"""What reports read besides projects: plans, baselines, and time spent in each stage."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, WanYuan, utcnow


class PlanEntry(Base):
    """One row of an equipment-renewal plan: units and investment per industry and year."""

    __tablename__ = "plan_entries"
    __table_args__ = (UniqueConstraint("jurisdiction_code", "industry", "year",
                                       name="uq_plan_entries_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"))
    industry: Mapped[str] = mapped_column(String(50))
    year: Mapped[int] = mapped_column(Integer)
    equipment_units: Mapped[int] = mapped_column(Integer)
    investment: Mapped[Decimal] = mapped_column("investment_yuan", WanYuan)


class PlanImport(Base):
    """An import of a plan table, with the totals it stated and where they disagreed."""

    __tablename__ = "plan_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"), index=True)
    source: Mapped[str] = mapped_column(String(200))
    stated_totals: Mapped[dict] = mapped_column(JSON)  # year -> {units, investment}
    discrepancies: Mapped[list] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Baseline(Base):
    """An agency's figure for a base year (e.g. 2023 equipment investment), from which the
    document's growth target is measured."""

    __tablename__ = "baselines"
    __table_args__ = (UniqueConstraint("jurisdiction_code", "year", name="uq_baselines_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"))
    year: Mapped[int] = mapped_column(Integer)
    equipment_investment: Mapped[Decimal] = mapped_column("equipment_investment_yuan", WanYuan)
    source: Mapped[str | None] = mapped_column(String(300))  # where the figure comes from
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class StageTime(Base):
    """A project's finished stay in one status, written by the step that ended it, so
    reports of time spent in each step never read the audit trail. (The current stay is
    the project's status since its `status_changed_at`.) It counts where it happened: the
    place and batch the project had then, whatever a later change filing moves."""

    __tablename__ = "stage_times"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    status: Mapped[str] = mapped_column(String(32))
    entered_at: Mapped[datetime] = mapped_column(DateTime)
    left_at: Mapped[datetime] = mapped_column(DateTime)
    working_days: Mapped[int] = mapped_column(Integer)
    jurisdiction_code: Mapped[str] = mapped_column(String(6))
    batch_year: Mapped[int] = mapped_column(Integer)  # 0: no batch


class StatsBucket(Base):
    """Sums of projects per county, batch year, status and industry — the dashboard reads
    these instead of the project rows. Each bucket is split into SHARDS rows (by project id)
    so concurrent changes to projects of one bucket rarely wait for each other's row lock."""

    __tablename__ = "stats_buckets"
    __table_args__ = (Index("ix_stats_buckets_province", "province_code", "status"),
                      Index("ix_stats_buckets_city", "city_code", "status"))

    jurisdiction_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    batch_year: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: not set
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    industry: Mapped[str] = mapped_column(String(50), primary_key=True)  # "": not set
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_code: Mapped[str] = mapped_column(String(6))
    city_code: Mapped[str] = mapped_column(String(6))
    projects: Mapped[int] = mapped_column(Integer, default=0)
    total_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    equipment_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    annual_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    need_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    new_units: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    contract_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    drawn_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    loans: Mapped[int] = mapped_column(Integer, default=0)
    relending_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    subsidy_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    claimed_yuan: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    approved_yuan: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    paid_yuan: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    clawed_back_yuan: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # construction progress (月调度): filed, started, warned projects and investment completed
    filed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    started: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    warned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    completed_yuan: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class StatsMonth(Base):
    """Declarations per county and month (by declaration date)."""

    __tablename__ = "stats_months"

    jurisdiction_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    batch_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_code: Mapped[str] = mapped_column(String(6))
    city_code: Mapped[str] = mapped_column(String(6))
    declared: Mapped[int] = mapped_column(Integer, default=0)


class StatsStageDays(Base):
    """Closed stays in a status per county and batch year: count, working days, longest."""

    __tablename__ = "stats_stage_days"

    jurisdiction_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    batch_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_code: Mapped[str] = mapped_column(String(6))
    city_code: Mapped[str] = mapped_column(String(6))
    stays: Mapped[int] = mapped_column(Integer, default=0)
    days: Mapped[int] = mapped_column(BigInteger, default=0)
    longest: Mapped[int] = mapped_column(Integer, default=0)


class StatsCompletion(Base):
    """Verified completions per county and year of completion: how many, and their actual
    (verified) total and equipment investment — what a document's growth target is
    measured on."""

    __tablename__ = "stats_completions"

    jurisdiction_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_code: Mapped[str] = mapped_column(String(6))
    city_code: Mapped[str] = mapped_column(String(6))
    projects: Mapped[int] = mapped_column(Integer, default=0)
    actual_total_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
    actual_equipment_yuan: Mapped[int] = mapped_column(BigInteger, default=0)
