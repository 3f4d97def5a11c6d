"""The agency's review queue with its bulk bar, its local settings, and everyone's workbench
(the home page)."""

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import access
from ..errors import DomainError, Invalid
from ..i18n import gettext as _
from ..labels import step_label
from ..models import china_today
from ..projects.regions import regions
from ..rules.calendar import working_days_left
from ..workflow.vocabulary import TRIGGERS
from . import bulk as bulk_ops
from . import people, settings
from . import queue as owed
from .queue import QueueFilter
from .workbench import workbench

bp = Blueprint("review", __name__)


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
    page = {"filters": filters, "today": today, "regions": regions(current_user),
            "days_left": working_days_left, "tab_url": _tab_url}
    try:
        rows, next_cursor = owed.queue(current_user, filters, today, limit=25,
                                       cursor=request.args.get("cursor") or None)
        counts = owed.step_counts(current_user, filters, today)
    except Invalid as err:  # a filter that names nothing: said beside it, on the page
        return render_template("review/queue.html", rows=[], next_url=None, counts=[],
                               total=None, errors=err.fields, **page), 422
    next_url = url_for("review.queue", **{**request.args, "cursor": next_cursor}) \
        if next_cursor else None
    total = sum(owed_ for step, owed_, _late in counts if filters.step in (None, step))
    return render_template("review/queue.html", rows=rows, next_url=next_url, counts=counts,
                           total=total, errors={}, **page,
                           whole=min(total, bulk_ops.MAX_SELECTED),
                           max_selected=bulk_ops.MAX_SELECTED,
                           late=owed.late_reports({d.project_id for d in rows}, today))


def _tab_url(step: str | None) -> str:
    """A step's tab, keeping the other filters (a view stays bookmarkable)."""
    kept = {k: v for k, v in request.args.items() if k not in ("step", "cursor")}
    return url_for("review.queue", **kept, **({"step": step} if step else {}))


@bp.post("/queue/bulk")
@login_required
def bulk():
    """A decision for the selected projects — those ticked, or the whole filter result —
    first confirmed: the steps they all allow, and how many projects it will touch."""
    _agencies_only()
    back = url_for("review.queue", **request.args)
    try:
        picks = (bulk_ops.whole_result(current_user, QueueFilter.from_args(request.args))
                 if request.form.get("scope") == "all" else request.form.getlist("project"))
        chosen = bulk_ops.selected(current_user, picks)
    except DomainError as err:
        flash(err.message, "error")
        return redirect(back)
    choices = bulk_ops.common_choices(current_user, chosen)
    return render_template("review/bulk.html", chosen=chosen, choices=choices, back=back,
                           steps=None if choices else bulk_ops.steps_of(current_user, chosen))


@bp.post("/queue/bulk/apply")
@login_required
def bulk_apply():
    """The confirmed decision, taken project by project; the result of each is shown."""
    _agencies_only()
    trigger = request.form.get("step") or ""
    if trigger not in TRIGGERS:
        abort(400)
    back = request.form.get("back") or ""
    back = back if back.startswith("/queue") else url_for("review.queue")
    try:
        items = bulk_ops.parse_selection(request.form.getlist("project"))
    except DomainError as err:
        flash(err.message, "error")
        return redirect(back)
    comment = (request.form.get("comment") or "").strip() or None
    outcomes = bulk_ops.decide(current_user, trigger, items, comment=comment)
    return render_template("review/bulk_result.html", outcomes=outcomes, step=step_label(trigger),
                           done=sum(o.done for o in outcomes), back=back)


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


def _date_field(name: str) -> date | None:
    value = request.form.get(name) or ""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(_("Please correct the marked fields."),
                      fields={name: _("A date.")}) from None


@bp.route("/delegations", methods=["GET", "POST"])
@login_required
def delegations():
    """An officer's cover while away (职务代理): who stands in for whom, when."""
    _agencies_only()
    today, error, status = china_today(), None, 200
    if request.method == "POST":
        try:
            officer = people.user_named(request.form.get("officer", ""))
            deputy = people.user_named(request.form.get("deputy", ""))
            people.create_delegation(current_user, officer, deputy, _date_field("starts_on"),
                                     _date_field("ends_on"), request.form.get("reason"), today)
            flash(_("Saved: the deputy stands in for the officer in those days."), "success")
            return redirect(url_for("review.delegations"))
        except DomainError as err:
            error, status = err, err.status
    officers = [current_user, *people.colleagues(current_user)] if current_user.is_head \
        else [current_user]
    return render_template("review/delegations.html", rows=people.delegations_of(current_user),
                           officers=officers, deputies=people.colleagues(current_user),
                           error=error, today=today, in_force=people.in_force), status


@bp.post("/delegations/<int:delegation_id>/end")
@login_required
def end_delegation(delegation_id):
    _agencies_only()
    try:
        people.end_delegation(current_user, people.delegation(delegation_id))
        flash(_("The cover has ended."), "success")
    except DomainError as err:
        flash(err.message, "error")
    return redirect(url_for("review.delegations"))
