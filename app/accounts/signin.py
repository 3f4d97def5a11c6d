"""Deciding a sign-in: the throttle, the password (a hash checked for unknown users too),
the second factor, and what each outcome writes to the security log."""

import enum

from sqlalchemy import select

from ..extensions import db
from ..i18n import gettext as _
from ..models import User
from . import throttle, two_factor
from .operations import check_password
from .security import log_event


class Outcome(enum.Enum):
    SIGNED_IN = "signed_in"
    SECOND_FACTOR = "second_factor"  # the password was right; a code is owed
    WRONG = "wrong"
    LOCKED = "locked"


def _refused(attempt: throttle.SignInAttempt) -> bool:
    if attempt.refused and attempt.first_refusal:
        log_event("login_locked", username=attempt.username[:64])
    return attempt.refused


def with_password(username: str, password: str) -> tuple[Outcome, User | None]:
    attempt = throttle.begin_sign_in(username)
    if _refused(attempt):
        return Outcome.LOCKED, None
    user = db.session.scalar(select(User).where(User.username == username))
    if check_password(user, password):
        throttle.end_sign_in(attempt, succeeded=True)
        return (Outcome.SECOND_FACTOR if user.totp_secret else Outcome.SIGNED_IN), user
    log_event("login_failed", username=username)
    return Outcome.WRONG, None


def with_code(user: User, code: str) -> Outcome:
    """The second factor of `user`, who gave the right password: a code of the
    authenticator or an unused recovery code. Wrong codes count as failed sign-ins."""
    attempt = throttle.begin_sign_in(user.username)
    if _refused(attempt):
        return Outcome.LOCKED
    if two_factor.verify(user, code):
        throttle.end_sign_in(attempt, succeeded=True)
        return Outcome.SIGNED_IN
    log_event("login_failed", username=user.username, detail="second factor")
    return Outcome.WRONG


def confirm_password(user: User, password: str) -> str | None:
    """Why the signed-in user's own password, asked again before a change to the account,
    is refused — or None. Wrong answers count as failed sign-ins, so a borrowed session
    cannot be used to guess the password."""
    attempt = throttle.begin_sign_in(user.username)
    if _refused(attempt):
        return _("Too many failed attempts: this account is locked for a while. "
                 "Try again later.")
    if check_password(user, password or ""):
        throttle.end_sign_in(attempt, succeeded=True)
        return None
    log_event("login_failed", user=user, detail="current password")
    return _("This is not your current password.")
