"""The agency's review queue with its bulk bar, its local settings, and everyone's workbench
(the home page)."""

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import access
from ..errors import DomainError, Invalid
from ..extensions import db
from ..i18n import gettext as _
from ..labels import step_label
from ..models import china_today
from ..projects.operations import get_project, take_step
from . import queue as owed
from . import settings
from .queue import QueueFilter
from .workbench import workbench

bp = Blueprint("review", __name__)

BULK_STEPS = ("accept", "return")


@bp.get("/")
@login_required
def home():
    board = workbench(current_user, china_today())
    return render_template("review/home.html", board=board, today=china_today())


def _agencies_only():
    if not access.is_agency(current_user):
        abort(403)


@bp.get("/queue")
@login_required
def queue():
    if not access.has_queue(current_user):
        abort(403)
    filters, today = QueueFilter.from_args(request.args), china_today()
    rows, next_cursor = owed.queue(current_user, filters, today, limit=25,
                                   cursor=request.args.get("cursor") or None)
    next_url = url_for("review.queue", **{**request.args, "cursor": next_cursor}) \
        if next_cursor else None
    return render_template("review/queue.html", rows=rows, next_url=next_url, filters=filters,
                           counts=owed.step_counts(current_user, filters, today), today=today,
                           bulk_steps=BULK_STEPS)


@bp.post("/queue/bulk")
@login_required
def bulk():
    """One decision for several selected projects: each is its own transaction, and the
    clerk is told which went through and which did not, and why."""
    _agencies_only()
    step = request.form.get("step")
    if step not in BULK_STEPS:
        abort(400)
    comment = (request.form.get("comment") or "").strip() or None
    done, failed = 0, []
    for value in request.form.getlist("project"):
        public_id, _sep, version = value.partition(":")
        try:
            project = get_project(current_user, public_id)
            take_step(current_user, project, step, version=int(version or 0),
                             comment=comment)
            done += 1
        except (DomainError, ValueError) as err:
            db.session.rollback()
            failed.append(getattr(err, "message", str(err)))
    if done:
        flash(_("%(step)s: %(n)s project(s) done.", step=step_label(step), n=done), "success")
    for message in failed:
        flash(message, "error")
    if not done and not failed:
        flash(_("Select at least one project."), "error")
    return redirect(url_for("review.queue", **request.args))



@bp.route("/settings", methods=["GET", "POST"])
@login_required
def local_settings():
    """The numbers the agency sets for its jurisdiction, with where each comes from."""
    _agencies_only()
    today, error = china_today(), None
    if request.method == "POST":
        try:
            effective = request.form.get("effective_on") or None
            settings.set_value(current_user, request.form.get("key", ""),
                               request.form.get("value", ""),
                               date.fromisoformat(effective) if effective else None, today)
            flash(_("Saved: in force from the date given, for your jurisdiction."), "success")
            return redirect(url_for("review.local_settings"))
        except ValueError:
            error = (request.form.get("key"), Invalid(_("A date."), fields={
                "effective_on": _("A date.")}))
        except Invalid as err:
            error = (request.form.get("key"), err)
    return render_template("review/settings.html", rows=settings.settings_for(current_user, today),
                           error=error, today=today), 422 if error else 200
