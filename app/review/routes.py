from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import DomainError
from ..extensions import db
from ..i18n import gettext as _
from ..labels import step_label
from ..models import china_today
from ..services import queue as owed
from ..services.projects import get_project
from ..services.queue import SORTS, QueueFilter
from ..workflow import workflows
from . import bp

BULK_STEPS = ("accept", "return")


@bp.before_request
@login_required
def _agencies_only():
    if not current_user.role.startswith("agency:"):
        abort(403)


def _filters() -> QueueFilter:
    return QueueFilter(step=request.args.get("step") or None,
                       industry=request.args.get("industry") or None,
                       region=request.args.get("region") or None,
                       year=request.args.get("year", type=int),
                       overdue=bool(request.args.get("overdue")),
                       sort=request.args.get("sort") if request.args.get("sort") in SORTS else "due")


@bp.get("/queue")
def queue():
    filters, today = _filters(), china_today()
    rows, next_cursor = owed.queue(current_user, filters, today, limit=25,
                                   cursor=request.args.get("cursor") or None)
    next_url = url_for("review.queue", **{**request.args, "cursor": next_cursor}) \
        if next_cursor else None
    return render_template("review/queue.html", rows=rows, next_url=next_url, filters=filters,
                           counts=owed.step_counts(current_user, filters, today), today=today,
                           bulk_steps=BULK_STEPS)


@bp.post("/queue/bulk")
def bulk():
    """One decision for several selected projects: each is its own transaction, and the
    clerk is told which went through and which did not, and why."""
    step = request.form.get("step")
    if step not in BULK_STEPS:
        abort(400)
    comment = (request.form.get("comment") or "").strip() or None
    done, failed = 0, []
    for value in request.form.getlist("project"):
        public_id, _sep, version = value.partition(":")
        try:
            project = get_project(current_user, public_id)
            workflows().fire(project, step, current_user, version=int(version or 0),
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

