"""Verifying the audit trail: every project's hash chain, and that each project's status and
version are what its trail says (status = the last event's destination, version = number of
events). Streams the events, so it runs in constant memory over millions of them."""

from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import Project, WorkflowEvent
from .audit import GENESIS, event_hash


@dataclass
class Break:
    project: str
    seq: int | None
    event_id: int | None
    reason: str

    def __str__(self):
        where = f"event {self.seq} (id {self.event_id})" if self.seq else "its record"
        return f"project {self.project}: {where}: {self.reason}"


@dataclass
class Verification:
    projects: int = 0
    events: int = 0
    first_break: Break | None = None


def verify_trail(batch: int = 5000) -> Verification:
    columns = [getattr(WorkflowEvent, c.name) for c in WorkflowEvent.__table__.columns]
    query = (select(*columns, Project.public_id.label("public_id"),
                    Project.version.label("project_version"), Project.status.label("status"))
             .join(Project, Project.id == WorkflowEvent.project_id)
             .order_by(WorkflowEvent.project_id, WorkflowEvent.seq)
             .execution_options(yield_per=batch, stream_results=True))
    result = Verification()
    current, expected_seq, previous, last = None, 1, GENESIS, None
    for row in db.session.execute(query):
        if row.project_id != current:
            if last is not None and (found := _closing(last, expected_seq - 1)):
                result.first_break = found
                return result
            current, expected_seq, previous = row.project_id, 1, GENESIS
            result.projects += 1
        result.events += 1
        reason = None
        if row.seq != expected_seq:
            reason = f"sequence number {row.seq}, expected {expected_seq} (an event is missing)"
        elif row.prev_hash != previous:
            reason = "does not link to the previous event's hash"
        elif event_hash(row, row.public_id) != row.hash:
            reason = "its content does not match its hash (altered)"
        if reason:
            result.first_break = Break(str(row.public_id), row.seq, row.id, reason)
            return result
        previous, expected_seq, last = row.hash, expected_seq + 1, row
    if last is not None and (found := _closing(last, expected_seq - 1)):
        result.first_break = found
    return result


def _closing(last, count: int) -> Break | None:
    """The project row must agree with the end of its trail."""
    if last.project_version != count:
        return Break(str(last.public_id), None, None,
                     f"version {last.project_version} but {count} events")
    if last.status.value != last.to_state:
        return Break(str(last.public_id), None, None,
                     f"status {last.status.value} but the last event ends in {last.to_state}")
    return None
