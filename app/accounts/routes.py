"""Signing in (password, then the second factor where enrolled) and out; the user's own
password and authenticator pages."""

import unicodedata
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from .. import access
from ..api.base import error_response
from ..errors import Forbidden, Invalid, NotFound
from ..extensions import login_manager
from ..i18n import gettext as _
from ..models import User
from . import operations as accounts
from . import sessions, signin, two_factor
from .forms import (
    AdminPasswordForm,
    CodeForm,
    DisableTwoFactorForm,
    EnrolForm,
    LoginForm,
    PasswordForm,
)
from .security import log_event

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.login_message = None

PENDING = "two_factor_user"  # who gave the right password and owes the second factor
ENROLMENT = "two_factor_secret"  # the secret shown at enrolment, until a code proves it
# What a user who must enrol a second factor may still reach.
ENROLMENT_ENDPOINTS = {"accounts.two_factor", "accounts.logout", "accounts.login", "static"}


@login_manager.user_loader
def _load_user(public_id: str):
    user = accounts.user_by_public_id(public_id)
    return user if sessions.current(user) else None


def safe_next(target: str | None) -> str:
    """`target` if it is a path of this site, else the home page: no scheme, no host, no
    control characters, spaces or backslashes (which browsers read as slashes)."""
    home = url_for("review.home")
    if not target or not target.startswith("/") or "\\" in target:
        return home
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")
           for ch in target):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") \
            or parts.path.startswith("//"):
        return home
    return target


def _begin_session(user: User) -> None:
    """A new session at sign-in: no fixation of an old one; the language choice stays."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def _sign_in(user: User):
    _begin_session(user)
    login_user(user)
    sessions.remember(user)
    session.permanent = True  # lapses after PERMANENT_SESSION_LIFETIME idle
    log_event("login_ok", user=user)
    return redirect(safe_next(request.args.get("next")))


def _locked() -> str:
    return _("Too many failed attempts: this account is locked for a while. Try again later.")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        outcome, user = signin.with_password(form.username.data, form.password.data)
        if outcome == signin.Outcome.SIGNED_IN:
            return _sign_in(user)
        if outcome == signin.Outcome.SECOND_FACTOR:
            _begin_session(user)
            session[PENDING] = [str(user.public_id), user.session_epoch]
            return redirect(url_for("accounts.second_factor",
                                    next=safe_next(request.args.get("next"))))
        if outcome == signin.Outcome.LOCKED:
            form.password.errors.append(_locked())
            return render_template("accounts/login.html", form=form), 429
        form.password.errors.append(_("Wrong username or password."))
    return render_template("accounts/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor():
    public_id, epoch = session.get(PENDING) or (None, None)
    user = accounts.user_by_public_id(public_id) if public_id else None
    if user is None or not user.active or user.session_epoch != epoch:
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    if form.validate_on_submit():
        outcome = signin.with_code(user, form.code.data)
        if outcome == signin.Outcome.SIGNED_IN:
            return _sign_in(user)
        if outcome == signin.Outcome.LOCKED:
            form.code.errors.append(_locked())
            return render_template("accounts/second_factor.html", form=form), 429
        form.code.errors.append(_("This code is not valid."))
    return render_template("accounts/second_factor.html", form=form)


@bp.app_errorhandler(429)
def _throttled(err):
    if request.path.startswith("/api/"):
        return error_response(429, "too_many_requests", str(err.description))
    return render_template("error.html", status=429, message=err.description), 429


@bp.post("/logout")
@login_required
def logout():
    log_event("logout")
    accounts.end_sessions(current_user.id)  # every copy of this session's cookie, everywhere
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.before_app_request
def _enrol_first():
    """Where the organisation requires a second factor, a user signed in without one enrols
    before anything else."""
    if request.path.startswith("/api/") or request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    if current_user.is_authenticated and access.must_enrol_two_factor(current_user):
        return redirect(url_for("accounts.two_factor"))
    return None


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        refused = signin.confirm_password(current_user, form.current_password.data)
        if refused:
            form.current_password.errors.append(refused)
        else:
            try:
                accounts.set_password(current_user, form.password.data)
            except Invalid as err:
                form.password.errors.append(err.fields["password"])
            else:
                sessions.remember(current_user)  # this session goes on; every other one ends
                log_event("password_changed")
                flash(_("Your password has been changed. Other sessions have been signed "
                        "out."), "success")
                return redirect(url_for("review.home"))
    return render_template("accounts/password.html", form=form), _status(form)


def _status(form) -> int:
    return 422 if form.errors else 200


@bp.route("/account/two-factor", methods=["GET", "POST"], endpoint="two_factor")
@login_required
def two_factor_page():
    user = current_user
    if user.totp_secret:
        form = DisableTwoFactorForm()
        if form.validate_on_submit() and access.can_disable_two_factor(user):
            refused = signin.confirm_password(user, form.current_password.data)
            if not refused:
                two_factor.disable(user)
                sessions.remember(user)  # this session goes on; every other one ends
                log_event("two_factor_disabled")
                flash(_("Two-step sign-in is off."), "info")
                return redirect(url_for("accounts.two_factor"))
            form.current_password.errors.append(refused)
        return render_template("accounts/two_factor.html", form=form, enrolled=True,
                               may_disable=access.can_disable_two_factor(user),
                               codes_left=two_factor.recovery_codes_left(user)), _status(form)
    if not access.can_enrol_two_factor(user):
        return redirect(url_for("review.home"))
    secret = session.get(ENROLMENT) or two_factor.new_secret()
    session[ENROLMENT] = secret
    form = EnrolForm()
    if form.validate_on_submit():
        codes = two_factor.enrol(user, secret, form.code.data)
        if codes is not None:
            session.pop(ENROLMENT, None)
            sessions.remember(user)  # this session goes on; every other one ends
            log_event("two_factor_enrolled")
            return render_template("accounts/recovery_codes.html", codes=codes)
        form.code.errors.append(_("This code is not valid."))
    uri = two_factor.provisioning_uri(user, secret)
    return render_template("accounts/two_factor.html", form=form, enrolled=False,
                           secret=secret, qr=two_factor.qr_svg(uri),
                           required=access.two_factor_required(user)), _status(form)


# -- administration -------------------------------------------------------------------------


def _administrator():
    if not access.can_manage_accounts(current_user):
        raise Forbidden(_("Only administrators manage accounts."))


@bp.get("/admin/users")
@login_required
def admin_users():
    _administrator()
    prefix = (request.args.get("q") or "").strip()[:64]
    return render_template("accounts/admin_users.html", users=accounts.find_users(prefix),
                           q=prefix)


ADMIN_ACTIONS = {"activate", "deactivate", "require_two_factor", "optional_two_factor"}


@bp.route("/admin/users/<user_id>", methods=["GET", "POST"])
@login_required
def admin_user(user_id):
    _administrator()
    user = accounts.user_by_public_id(user_id)
    if user is None:
        raise NotFound(_("No such user."))
    form = AdminPasswordForm()
    action = request.form.get("action")
    if request.method == "POST" and action in ADMIN_ACTIONS and form.csrf_token.validate(form):
        if action in ("activate", "deactivate"):
            accounts.set_active(user, action == "activate")
        else:
            accounts.require_two_factor(user.organization, action == "require_two_factor")
        log_event("account_changed", detail=f"{action} {user.username}")
        flash(_("Saved."), "success")
        return redirect(url_for("accounts.admin_user", user_id=user_id))
    if request.method == "POST" and action == "password" and form.validate_on_submit():
        try:
            accounts.set_password(user, form.password.data)
        except Invalid as err:
            form.password.errors.append(err.fields["password"])
        else:
            log_event("account_changed", detail=f"password {user.username}")
            flash(_("The new password is set; the user's sessions have ended."), "success")
            return redirect(url_for("accounts.admin_user", user_id=user_id))
    return render_template("accounts/admin_user.html", user=user, form=form,
                           enrolled=bool(user.totp_secret)), _status(form)
