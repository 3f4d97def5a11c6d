"""Signed-in sessions that end on the server's word.

Each user has a session epoch; a session records the epoch it was signed in at and is only
honoured while the user's epoch is the same. Signing out moves it on (ending the user's
sessions everywhere, copies of the cookie included), and so does any change of what the
user may do or how they sign in: a new password, deactivation, admin rights, another
organisation, an authenticator enrolled or removed — whatever code makes it, as the check
runs before every flush.
"""

from flask import session
from sqlalchemy import event
from sqlalchemy.orm import Session, attributes

from ..models import User

ENDS_SESSIONS = ("password_hash", "active", "is_admin", "organization_id", "totp_secret")
KEY = "epoch"


@event.listens_for(Session, "before_flush")
def _move_epoch_on_change(db_session, _context, _instances) -> None:
    for obj in db_session.dirty:
        if isinstance(obj, User) and any(
                attributes.get_history(obj, name).has_changes() for name in ENDS_SESSIONS):
            obj.session_epoch = (obj.session_epoch or 0) + 1


def remember(user: User) -> None:
    """The signed-in session holds the user's epoch now."""
    session[KEY] = user.session_epoch


def current(user: User | None) -> bool:
    """Whether this session was signed in at the user's present epoch."""
    return user is not None and session.get(KEY) == user.session_epoch
