from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..extensions import db, login_manager
from ..models import User
from ..services.accounts import check_password
from . import bp
from .forms import LoginForm

login_manager.login_view = "auth.login"


@login_manager.user_loader
def _load_user(public_id: str):
    return db.session.scalar(select(User).where(User.public_id == public_id))


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data))
        if user is not None and user.active and check_password(user, form.password.data):
            login_user(user)
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/") and not target.startswith("//")
                            else url_for("auth.home"))
        form.password.errors.append(_("Wrong username or password."))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You have signed out."))
    return redirect(url_for("auth.login"))


@bp.get("/")
@login_required
def home():
    return render_template("auth/home.html", user=current_user)
