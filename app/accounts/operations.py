"""Organisations, users, passwords and API tokens."""

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as NumberError

from ..database import unit_of_work
from ..errors import Invalid
from ..extensions import db
from ..i18n import gettext as _
from ..models import AgencyKind, ApiToken, Jurisdiction, Organization, OrgKind, User
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


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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
                email: str | None = None) -> User:
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise Invalid(_("Please correct the marked fields."),
                      fields={"username": _("This username is taken.")})
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


def issue_token(user: User) -> str:
    """A new API token for `user`; only its digest is stored, so show it now or never."""
    token = "jg_" + secrets.token_urlsafe(32)
    with unit_of_work():
        db.session.add(ApiToken(user_id=user.id, token_hash=token_digest(token)))
    return token
