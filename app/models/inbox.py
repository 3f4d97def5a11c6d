"""What people say and send around a project: comments, attachments, notifications."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .org import User, _enum


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")


class AttachmentKind(enum.StrEnum):
    FILING_PROOF = "filing_proof"  # 备案证明
    COMMITMENT_SCAN = "commitment_scan"  # 承诺书扫描件
    EQUIPMENT_QUOTE = "equipment_quote"  # 设备报价单
    OTHER = "other"


class Attachment(Base):
    """An uploaded file; the bytes live in the configured store under `storage_key`."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    kind: Mapped[AttachmentKind] = mapped_column(_enum(AttachmentKind, "attachment_kind"))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    uploaded_by: Mapped[User] = relationship(lazy="joined")


class MailState(enum.StrEnum):
    """Where a notification's e-mail is. The step that writes the notification leaves it
    `pending` (the column's default: the outbox is written in the step's own statement); the
    job worker claims it (`sending`, under its mail job), sends it and marks it `sent`, or
    `none` when the user has no address, `failed` when the server refused it for good."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    NONE = "none"
    FAILED = "failed"


MAIL_OPEN = "mail_state IN ('pending', 'sending')"


class Notification(Base):
    """A message to one user: a decision on their project, or a step now waiting for them;
    and the e-mail that goes with it (the mail outbox)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_inbox", "user_id", "read_at", "id"),
        # Only the mail still to send is indexed: the worker finds it without a scan.
        Index("ix_notifications_mail_open", "mail_state", "id",
              postgresql_where=text(MAIL_OPEN), sqlite_where=text(MAIL_OPEN)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    kind: Mapped[str] = mapped_column(String(32))  # decision | your_turn
    trigger: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # rendered in the reader's language
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    mail_state: Mapped[str] = mapped_column(String(8), server_default=MailState.PENDING.value)
    mail_job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))

    project = relationship("Project")
