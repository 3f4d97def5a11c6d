"""Background work: each job's state, progress and problems, kept in the database so that
any worker on any host can take it up, and any web host can show it."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from .base import Base, utcnow


class JobStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for a worker (again, after a failure or a worker's death)
    RUNNING = "running"  # a worker has it and beats its heartbeat
    DONE = "done"
    FAILED = "failed"  # refused (its problems are listed), or out of attempts


class Job(Base):
    """One piece of background work — an import, a mail batch, a periodic run.

    `key` makes a job unique where it must be (a periodic task's period: one run per period
    whichever host's scheduler asks first). The running worker renews `heartbeat_at`; a job
    whose heartbeat has gone stale lost its worker and is queued again. `errors` keeps the
    first problems found (at most a thousand), `error_count` counts them all.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status_known"),
        Index("ix_jobs_status", "status", "heartbeat_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(DateTime, default=utcnow)  # not before (retries)
    worker: Mapped[str | None] = mapped_column(String(120))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    stage: Mapped[str | None] = mapped_column(String(20))  # the kind's own: checking, writing
    total: Mapped[int] = mapped_column(Integer, default=0)  # items in all (rows, messages)
    done: Mapped[int] = mapped_column(Integer, default=0)  # items of the stage handled so far
    created: Mapped[int] = mapped_column(Integer, default=0)  # items written or sent
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list] = mapped_column(JSON, default=list)
    # Things worth knowing that stopped nothing (a cell kept as text), like `errors`.
    notes: Mapped[list | None] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(Text)  # why the last attempt failed
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)


class JobFile(Base):
    """The file a job works on (an uploaded workbook), kept in the database so that a worker
    on another host reads it; removed when the job has finished with it."""

    __tablename__ = "job_files"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"),
                                        primary_key=True)
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
