"""The security log: sign-ins, failed and throttled attempts, refused access.

Entries are written in the request's own session after its work was rolled back, so a
refusal is recorded even though the refused change is not (and SQLite's single writer is
never waited on by a second connection of the same request).
"""

from flask import has_request_context, request
from flask_login import current_user

from ..database import unit_of_work
from ..extensions import db
from ..models import SecurityEvent, User, utcnow


def log_event(kind: str, *, username: str | None = None, user: User | None = None,
              detail: str | None = None) -> None:
    db.session.rollback()
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user
    with unit_of_work():
        db.session.add(SecurityEvent(
            kind=kind, username=(username or (user.username if user else None)),
            user_id=user.id if user else None,
            ip=request.remote_addr if has_request_context() else None,
            method=request.method if has_request_context() else None,
            path=request.path[:300] if has_request_context() else None,
            detail=(detail or "")[:2000] or None, created_at=utcnow()))
