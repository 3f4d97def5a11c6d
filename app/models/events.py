"""The audit trail: one event per change of a project, chained by hash."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class WorkflowEvent(Base):
    """Who did what to which project, when, in which role and under which clause.

    `seq` numbers a project's events from 1 and equals the project's version after the
    change; `hash` covers the event's fields and the previous event's hash, so a removed,
    reordered or edited event breaks the chain (`flask audit verify`).
    """

    __tablename__ = "workflow_events"
    __table_args__ = (UniqueConstraint("project_id", "seq", name="uq_workflow_events_project_seq"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    seq: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    workflow_key: Mapped[str | None] = mapped_column(String(64))
    workflow_version: Mapped[int | None] = mapped_column(Integer)
    clause: Mapped[str | None] = mapped_column(String(300))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(40))
    actor_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    actor_org_name: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # A deputy acting for a colleague (职务代理): whom they acted for (their name is in
    # `data.on_behalf_of`, under the hash).
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class SecurityEvent(Base):
    """Sign-ins, failures, lockouts and refused access: who tried what, from where."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ip: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str | None] = mapped_column(String(8))
    path: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class SecurityTally(Base):
    """Repeated failures counted per kind, key (a client address, an account) and window:
    one row with a count however many requests, shared by every worker and host. Sign-in
    throttling reads it; the security log keeps the first of each window as its own row."""

    __tablename__ = "security_tallies"
    __table_args__ = (UniqueConstraint("kind", "key", "window_start"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    window_start: Mapped[datetime] = mapped_column(DateTime, index=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
