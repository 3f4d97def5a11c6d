"""Deadlines of pending steps, and the definitions projects are frozen on."""

from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

OPEN_PROGRESS = "met_at IS NULL AND trigger IN ('report_progress', 'answer_problem')"


class Deadline(Base):
    """A step owed on a project now — by an agency role at some level of the project's place,
    or by one organisation (the enterprise, a bank) — and, for an agency's step, the working
    day it is due. The engine keeps these rows true after every step (`deadlines.reschedule`):
    the queue, the workbench counts and the "your turn" notifications all read them.

    Rows are replaced as the project moves; `met_at` marks an in-stage step done (e.g. the
    first whitelisting) so its clock does not run on.
    """

    __tablename__ = "deadlines"
    __table_args__ = (
        # One row per owed step: role, level, trigger and owing organisation (none: any
        # holder of the role in the project's place).
        Index("uq_deadlines_step", "project_id", "role", "level", "trigger", unique=True,
              postgresql_where=text("org_id IS NULL"), sqlite_where=text("org_id IS NULL")),
        Index("uq_deadlines_org_step", "project_id", "role", "level", "trigger", "org_id",
              unique=True, postgresql_where=text("org_id IS NOT NULL"),
              sqlite_where=text("org_id IS NOT NULL")),
        # What was escalated to a level, for its dashboard.
        Index("ix_deadlines_escalated", "escalated_to", "due_on",
              postgresql_where=text("escalated_to IS NOT NULL AND met_at IS NULL"),
              sqlite_where=text("escalated_to IS NOT NULL AND met_at IS NULL")),
        # An organisation's own queue (an enterprise's, a bank's).
        Index("ix_deadlines_open_org", "org_id", postgresql_where=text("met_at IS NULL"),
              sqlite_where=text("met_at IS NULL")),
        # An agency's queue (its role's open steps by due date) and the national overdue
        # counts, read from this index alone.
        Index("ix_deadlines_open_role", "role", "level", "due_on",
              postgresql_where=text("met_at IS NULL"), sqlite_where=text("met_at IS NULL")),
        # Overdue counts per region read only this index (open rows, place first).
        Index("ix_deadlines_open_place", "province_code", "city_code", "jurisdiction_code",
              "due_on", "role", "level", "batch_year", postgresql_where=text("met_at IS NULL"),
              sqlite_where=text("met_at IS NULL")),
        # The dashboard's late monthly reports and open problems, counted from this alone.
        Index("ix_deadlines_open_progress", "trigger", "province_code", "city_code",
              "jurisdiction_code", "due_on", postgresql_where=text(OPEN_PROGRESS),
              sqlite_where=text(OPEN_PROGRESS)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A step reads and rewrites its project's rows by this index: the two unique indexes
    # that lead with project_id are partial, so a plain lookup by project cannot use them.
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    role: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(16), default="")  # "" = any level
    trigger: Mapped[str] = mapped_column(String(40))
    # The one organisation that owes it (an enterprise, a bank); none for an agency role.
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    started_on: Mapped[date] = mapped_column(Date)
    # An agency's step has a time limit; an enterprise's or a bank's has none.
    sla_days: Mapped[int | None] = mapped_column(Integer)
    used_days: Mapped[int] = mapped_column(Integer, default=0)  # consumed before a pause
    due_on: Mapped[date | None] = mapped_column(Date)
    met_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Told that the due day is near; told the level above that it passed (once each).
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalated_to: Mapped[str | None] = mapped_column(String(6))  # the level above, by place
    # The project's place and batch year, copied so that overdue counts need no join.
    jurisdiction_code: Mapped[str] = mapped_column(String(6))
    province_code: Mapped[str] = mapped_column(String(6))
    city_code: Mapped[str] = mapped_column(String(6))
    batch_year: Mapped[int | None] = mapped_column(Integer)
    # The officer who took an agency's step from the role's shared queue (认领); none while
    # anyone holding the role may take it.
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    held_since: Mapped[datetime | None] = mapped_column(DateTime)

    project = relationship("Project", back_populates="deadlines")


class DefinitionSnapshot(Base):
    """The text of every definition version a project was frozen on, so editing or removing
    a definition file never strands a project in flight."""

    __tablename__ = "workflow_definitions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    source_text: Mapped[str] = mapped_column(Text)
    first_used_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LocalSetting(Base):
    """A number an agency sets for its jurisdiction — a time limit, a batch cut-off date, its
    reading of "以设备更新为主" — in force from `effective_on`. Rows are never changed: a new
    value is a new row, so who set what and when stays on record (rules/settings.py)."""

    __tablename__ = "local_settings"
    __table_args__ = (Index("ix_local_settings_key", "key", "jurisdiction_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"))
    value: Mapped[str] = mapped_column(String(64))
    effective_on: Mapped[date] = mapped_column(Date)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_by_org_name: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(String(500))
