"""Monthly construction progress reports (月调度)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, WanYuan, utcnow


class ProgressReport(Base):
    """One month's report by the enterprise: where construction stands at the month's end,
    and any problem it needs the agency's help with (需协调解决的问题), with the answer."""

    __tablename__ = "progress_reports"
    __table_args__ = (
        UniqueConstraint("project_id", "month", name="uq_progress_reports_month"),
        CheckConstraint("percent_complete BETWEEN 0 AND 100", name="percent"),
        CheckConstraint("investment_completed_yuan >= 0", name="investment"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    month: Mapped[date] = mapped_column(Date)  # the month's first day
    actual_start_on: Mapped[date | None] = mapped_column(Date)
    investment_completed: Mapped[Decimal] = mapped_column("investment_completed_yuan", WanYuan)
    percent_complete: Mapped[int] = mapped_column(Integer)
    equipment_installed: Mapped[dict] = mapped_column(JSON)  # row position -> ISO date
    problems: Mapped[str | None] = mapped_column(Text)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_by_name: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
