"""The audit hash chain: each event's hash covers its fields and its predecessor's hash.

The hashed body holds only what the events API shows (public ids, names, not row ids), so
anyone holding an export can recompute the chain:
    hash = sha256(prev_hash + json(body, sort_keys, ensure_ascii=False, separators=(",", ":")))
"""

import hashlib
import json

from ..models import WorkflowEvent

GENESIS = "0" * 64


def hashed_body(event: WorkflowEvent, project_public_id) -> dict:
    return {
        "project": str(project_public_id),
        "seq": event.seq,
        "trigger": event.trigger,
        "from": event.from_state,
        "to": event.to_state,
        "workflow": event.workflow_key,
        "workflow_version": event.workflow_version,
        "clause": event.clause,
        "actor": event.actor_name,
        "role": event.actor_role,
        "organization": event.actor_org_name,
        "comment": event.comment,
        "data": event.data,
        "at": event.created_at.isoformat(timespec="microseconds"),
    }


def event_hash(event: WorkflowEvent, project_public_id) -> str:
    canonical = json.dumps(hashed_body(event, project_public_id), sort_keys=True,
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((event.prev_hash + canonical).encode()).hexdigest()


def first_break(events: list[WorkflowEvent], project_public_id) -> WorkflowEvent | None:
    """The first event of one project's trail (ordered by seq) whose chain does not hold."""
    previous = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if (event.seq != expected_seq or event.prev_hash != previous
                or event_hash(event, project_public_id) != event.hash):
            return event
        previous = event.hash
    return None
