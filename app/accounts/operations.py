"""Organisations, users, passwords and API tokens."""

import secrets
import uuid
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select, update
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as NumberError
from zxcvbn import zxcvbn

from ..database import unit_of_work
from ..errors import Invalid
from ..extensions import db
from ..i18n import gettext as _
from ..models import AgencyKind, ApiToken, Jurisdiction, Organization, OrgKind, User, utcnow
from ..models.org import NATIONAL_CODE
from .principals import token_digest

# argon2id with OWASP's minimum (19 MiB, 2 iterations, 1 lane). Test configurations may
# lower the cost through PASSWORD_HASH_COST; verifying reads the parameters from the hash.
_HASHERS = {
    "owasp": PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1),
    "test": PasswordHasher(time_cost=1, memory_cost=64, parallelism=1),
}


def _hasher() -> PasswordHasher:
    return _HASHERS[current_app.config.get("PASSWORD_HASH_COST", "owasp")]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(user: User | None, password: str) -> bool:
    """Whether `password` is the user's. For no user (or an inactive one) a hash is checked
    all the same, so the answer takes as long and does not tell who has an account."""
    if user is None or not user.active or not user.password_hash.startswith("$argon2"):
        _verify(_dummy_hash(), password)
        return False
    return _verify(user.password_hash, password)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher().verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY: dict[str, str] = {}


def _dummy_hash() -> str:
    cost = current_app.config.get("PASSWORD_HASH_COST", "owasp")
    if cost not in _DUMMY:
        _DUMMY[cost] = _hasher().hash(secrets.token_urlsafe(16))
    return _DUMMY[cost]


MIN_PASSWORD_LENGTH = 12


def password_problem(password: str, *hints: str) -> str | None:
    """Why `password` may not be used, or None: at least 12 characters, and not common or
    easily guessed (zxcvbn's estimate, with its dictionaries of common passwords and words,
    and the account's own names as hints)."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return _("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    if len(password) > 200:
        return _("At most %(n)d characters.", n=200)
    if zxcvbn(password[:100], user_inputs=[h for h in hints if h])["score"] < 3:
        return _("This password is too common or too easy to guess.")
    return None


def _checked_password(password: str, *hints: str) -> str:
    problem = password_problem(password, *hints)
    if problem:
        raise Invalid(_("Please correct the marked fields."), fields={"password": problem})
    return password


def set_password(user: User, password: str) -> None:
    """A new password (of the policy's strength); every session of the user ends with it."""
    _checked_password(password, user.username, user.display_name)
    with unit_of_work():
        user.password_hash = hash_password(password)


def find_users(prefix: str = "", limit: int = 100) -> list[User]:
    """Users whose name starts with `prefix`, by name (the administrator's list)."""
    query = select(User).where(User.username != SYSTEM).order_by(User.username).limit(limit)
    if prefix:
        query = query.where(User.username.startswith(prefix, autoescape=True))
    return list(db.session.scalars(query))


def user_by_public_id(public_id: str) -> User | None:
    try:
        key = uuid.UUID(public_id)
    except ValueError:
        return None
    return db.session.scalar(select(User).where(User.public_id == key))


def set_active(user: User, active: bool) -> None:
    with unit_of_work():
        user.active = active


def set_admin(user: User, is_admin: bool) -> None:
    with unit_of_work():
        user.is_admin = is_admin


def require_two_factor(org: Organization, required: bool) -> None:
    with unit_of_work():
        org.require_two_factor = required


def end_sessions(user_id: int) -> None:
    """Every signed-in session of the user ends (sign-out ends them on every device)."""
    with unit_of_work():
        db.session.execute(update(User).where(User.id == user_id)
                           .values(session_epoch=User.session_epoch + 1))


def normalise_credit_code(code: str) -> str:
    """A valid 统一社会信用代码 in canonical form, or Invalid naming the field."""
    try:
        return uscc.validate(code)
    except NumberError:
        raise Invalid(_("Please correct the marked fields."), fields={
            "credit_code": _("Not a valid unified social credit code (18 characters with a "
                             "check character).")}) from None


def create_organization(*, kind: OrgKind, name: str, jurisdiction_code: str,
                        credit_code: str | None = None, agency_kind: AgencyKind | None = None,
                        serves: list[str] | None = None) -> Organization:
    errors = {}
    if db.session.get(Jurisdiction, jurisdiction_code) is None:
        errors["jurisdiction"] = _("Unknown jurisdiction.")
    if kind == OrgKind.ENTERPRISE:
        credit_code = normalise_credit_code(credit_code or "")
        if db.session.scalar(select(Organization.id).where(Organization.credit_code == credit_code)):
            errors["credit_code"] = _("An organisation with this code is already registered.")
    if kind == OrgKind.AGENCY and agency_kind is None:
        errors["agency_kind"] = _("This field is required.")
    areas = []
    if kind == OrgKind.BANK:
        areas = [db.session.get(Jurisdiction, c) for c in dict.fromkeys(serves or [])]
        if None in areas:
            errors["serves"] = _("Unknown jurisdiction.")
    if db.session.scalar(select(Organization.id).where(Organization.name == name)):
        errors["name"] = _("An organisation with this name is already registered.")
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    with unit_of_work():
        org = Organization(kind=kind, name=name, jurisdiction_code=jurisdiction_code,
                           credit_code=credit_code if kind == OrgKind.ENTERPRISE else None,
                           agency_kind=agency_kind if kind == OrgKind.AGENCY else None)
        org.service_areas = areas
        db.session.add(org)
    return org


def create_user(*, username: str, password: str, organization: Organization,
                display_name: str | None = None, is_admin: bool = False,
                email: str | None = None, weak_password_ok: bool = False) -> User:
    """A new user. The password must meet the policy, except for the demo data's shared
    demo password (`weak_password_ok`)."""
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise Invalid(_("Please correct the marked fields."),
                      fields={"username": _("This username is taken.")})
    if not weak_password_ok:
        _checked_password(password, username, display_name or "")
    with unit_of_work():
        user = User(username=username, password_hash=hash_password(password),
                    organization=organization, display_name=display_name or username,
                    is_admin=is_admin, email=email)
        db.session.add(user)
    return user


SYSTEM, SYSTEM_NAME = "jigai-system", "技改项目库（定时任务）"


def system_user() -> User:
    """Who scheduled work (reminders, escalations) acts as in the audit trail: an inactive
    user of the operator, who can never sign in."""
    user = db.session.scalar(select(User).where(User.username == SYSTEM))
    if user is not None:
        return user
    with unit_of_work():
        org = Organization(kind=OrgKind.OPERATOR, name=SYSTEM_NAME,
                           jurisdiction_code=NATIONAL_CODE)
        user = User(username=SYSTEM, password_hash="!", organization=org,
                    display_name=SYSTEM_NAME, active=False)
        db.session.add(user)
    return user


def issue_token(user: User, days: int | None = None) -> str:
    """A new API token for `user`, good for `days` (API_TOKEN_DAYS, 90); only its digest is
    stored, so show it now or never."""
    token = "jg_" + secrets.token_urlsafe(32)
    days = current_app.config["API_TOKEN_DAYS"] if days is None else days
    with unit_of_work():
        db.session.add(ApiToken(user_id=user.id, token_hash=token_digest(token),
                                expires_at=utcnow() + timedelta(days=days)))
    return token


TOKEN_USE_PRECISION = timedelta(minutes=5)


def record_token_use(token_id: int, last_used: datetime | None) -> None:
    """Note that the token was used now — at most once in TOKEN_USE_PRECISION, so a busy
    client's requests do not each write."""
    now = utcnow()
    if last_used is not None and now - last_used < TOKEN_USE_PRECISION:
        return
    with unit_of_work():
        db.session.execute(update(ApiToken).where(ApiToken.id == token_id)
                           .values(last_used_at=now))


def list_tokens(username: str | None = None) -> list[ApiToken]:
    query = select(ApiToken).join(User).order_by(ApiToken.id)
    if username:
        query = query.where(User.username == username)
    return list(db.session.scalars(query))


def revoke_token(token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise Invalid(_("No such token."), fields={"token": _("No such token.")})
    if token.revoked_at is None:
        with unit_of_work():
            token.revoked_at = utcnow()
    return token
