import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..extensions import db, login_manager
from ..models import User, china_today
from ..services import notifications as inbox
from ..services.accounts import check_password
from ..services.workbench import workbench
from . import bp
from .forms import LoginForm

login_manager.login_view = "auth.login"
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
    return url_for("auth.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data))
        if user is not None and user.active and check_password(user, form.password.data):
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(_("Wrong username or password."))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/")
@login_required
def home():
    board = workbench(current_user, china_today())
    return render_template("auth/home.html", board=board, today=china_today())


@bp.get("/notifications")
@login_required
def notifications():
    items = inbox.inbox(current_user)
    return render_template("auth/notifications.html", items=items, text=inbox.notification_text)


@bp.post("/notifications/read")
@login_required
def notifications_read():
    inbox.mark_read(current_user)
    return redirect(url_for("auth.notifications"))
