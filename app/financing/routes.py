"""The bank's marketplace and loan book."""

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required

from .. import access
from ..models import Status
from ..projects.operations import ProjectFilter, list_projects
from ..rules.finance import loan_totals
from .operations import intended_banks, loan_book

bp = Blueprint("financing", __name__)


@bp.before_request
@login_required
def _banks_only():
    if not access.is_bank(current_user):
        abort(403)


@bp.get("/market")
def market():
    items, next_cursor = list_projects(
        current_user, ProjectFilter(status=[Status.FINANCING_MATCHMAKING.value],
                                    industry=request.args.get("industry") or None),
        limit=25, cursor=request.args.get("cursor") or None, listed_only=True)
    next_url = url_for("financing.market", **{**request.args, "cursor": next_cursor}) \
        if next_cursor else None
    intended = {p.id: intended_banks(p) for p in items}
    return render_template("financing/market.html", items=items, next_url=next_url,
                           intended=intended)


@bp.get("/loans")
def loans():
    rows = loan_book(current_user)
    return render_template("financing/loans.html", rows=rows,
                           totals=loan_totals([f for _loan, _project, f in rows]))
