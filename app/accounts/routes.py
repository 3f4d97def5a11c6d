"""Signing in and out."""

import uuid

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import login_required, login_user, logout_user
from sqlalchemy import select

from ..api.base import error_response
from ..extensions import db, limiter, login_manager
from ..i18n import gettext as _
from ..models import User
from .forms import LoginForm
from .operations import check_password
from .security import log_event

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.login_message = None


@login_manager.user_loader
def _load_user(public_id: str):
    try:
        key = uuid.UUID(public_id)
    except ValueError:
        return None
    return db.session.scalar(select(User).where(User.public_id == key))


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("review.home")


def _account_key() -> str:
    """Failed sign-ins are counted per account, whatever address they come from."""
    return "login:" + (request.form.get("username") or "").strip().lower()[:64]


def _failed(response) -> bool:
    return request.method == "POST" and response.status_code != 302


@limiter.request_filter
def _not_signing_in() -> bool:
    """Only signing in is rate-limited: other requests skip the limiter's bookkeeping."""
    return request.endpoint != "accounts.login"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_FAILURE_LIMIT"], key_func=_account_key,
               methods=["POST"], deduct_when=_failed)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data))
        if user is not None and user.active and check_password(user, form.password.data):
            language = session.get("lang")
            session.clear()  # a new session at sign-in: no fixation of an old one
            if language:
                session["lang"] = language
            login_user(user)
            session.permanent = True  # lapses after PERMANENT_SESSION_LIFETIME idle
            log_event("login_ok", user=user)
            return redirect(_safe_next(request.args.get("next")))
        log_event("login_failed", username=form.username.data)
        form.password.errors.append(_("Wrong username or password."))
    return render_template("accounts/login.html", form=form)


@bp.app_errorhandler(429)
def _throttled(err):
    if request.path.startswith("/api/"):
        return error_response(429, "too_many_requests", str(err.description))
    log_event("login_locked", username=(request.form.get("username") or "")[:64])
    form = LoginForm()
    form.password.errors = [_("Too many failed attempts: this account is locked for a while. "
                              "Try again later.")]
    return render_template("accounts/login.html", form=form), 429


@bp.post("/logout")
@login_required
def logout():
    log_event("logout")
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))
