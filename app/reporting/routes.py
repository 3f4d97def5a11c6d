"""The dashboard, exports and batch imports."""

import io
import uuid
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from .. import access
from ..errors import Invalid
from ..extensions import db
from ..financing import subsidies
from ..i18n import gettext as _
from ..jobs import imports as import_jobs
from ..labels import STATUS_LABELS
from ..models import STAGES, Job, china_today
from ..projects.operations import ProjectFilter
from . import bulletin as bulletins
from . import charts, exports, imports
from . import dashboard as reports

bp = Blueprint("reporting", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
@login_required
def _signed_in():
    return None


def _filters() -> ProjectFilter:
    statuses = [s for s in request.args.getlist("status") if s]
    return ProjectFilter(status=statuses or None, industry=request.args.get("industry") or None,
                         jurisdiction=request.args.get("jurisdiction") or None,
                         year=request.args.get("year", type=int),
                         q=(request.args.get("q") or "").strip() or None)


@bp.get("/dashboard")
def dashboard():
    year = request.args.get("year", type=int)
    report = reports.summary(current_user, request.args.get("jurisdiction"), year)
    funnel = charts.funnel(_("Projects by stage"), [
        (str(STATUS_LABELS[s.value]), sum(report.by_stage.get(t.value, 0)
                                          for t in STAGES[STAGES.index(s):]))
        for s in STAGES])
    plan_chart = charts.grouped_bars(
        _("Plan vs declared vs completed (10k yuan)"),
        [(f"{row['industry']} {row['year']}", [row["plan_investment"], row["declared_investment"],
                                               row["completed_investment"]])
         for row in report.plan],
        [_("Plan"), _("Declared"), _("Completed")]) if report.plan else None
    financing = charts.grouped_bars(_("Financing (10k yuan)"), [
        (_("Loan demand"), [report.financing["need"]]),
        (_("Credit approved"), [report.financing["credit"]]),
        (_("Contracted"), [report.financing["contracted"]]),
        (_("Drawn down"), [report.financing["drawn"]])], [_("Amount")])
    monthly = charts.line(_("Declarations per month"),
                          [(m["month"], m["declared"]) for m in report.monthly])
    return render_template("reporting/dashboard.html", report=report, funnel=funnel,
                           plan_chart=plan_chart, financing_chart=financing,
                           monthly_chart=monthly, year=year,
                           export_args={"jurisdiction": report.scope.code, "year": year,
                                        "status": [s.value for s in reports.IN_LIBRARY]},
                           may_set_baseline=access.can_set_baseline(current_user,
                                                                    report.scope.code))


@bp.post("/dashboard/baseline")
def baseline():
    try:
        amount = Decimal((request.form.get("amount") or "").replace(",", ""))
    except InvalidOperation:
        amount = None
    try:
        reports.save_baseline(current_user, request.form.get("jurisdiction"),
                              request.form.get("year", type=int) or 2023, amount,
                              (request.form.get("source") or "").strip()[:300] or None)
        flash(_("Baseline saved."), "success")
    except Invalid as err:  # a refusal (403) is not a form error: it propagates
        db.session.rollback()
        flash(err.fields.get("amount") or err.message, "error")
    return redirect(url_for("reporting.dashboard", jurisdiction=request.form.get("jurisdiction")))


def _bulletin():
    """The bulletin the request names (`month=YYYY-MM`, default last month; `jurisdiction`)."""
    raw = request.args.get("month") or ""
    try:
        month = date.fromisoformat(raw + "-01") if raw else None
    except ValueError:
        raise Invalid(_("Not a month."), fields={"month": _("Not a month.")}) from None
    if month is None:
        this = china_today().replace(day=1)
        month = (this - timedelta(days=1)).replace(day=1)
    return bulletins.bulletin(current_user, month, request.args.get("jurisdiction") or None)


@bp.get("/bulletin")
def bulletin():
    report = _bulletin()
    return render_template("reporting/bulletin.html", b=report,
                           headers=bulletins.headers(), row_values=bulletins.row_values)


@bp.get("/bulletin.xlsx")
def bulletin_xlsx():
    report = _bulletin()
    return send_file(_bytes(bulletins.workbook(report)), mimetype=XLSX, as_attachment=True,
                     download_name=f"bulletin-{report.scope.code}-{report.month:%Y-%m}.xlsx")


@bp.get("/projects/export.xlsx")
def export_xlsx():
    filters = _filters()
    projects = list(exports.matching_projects(current_user, filters))
    data = exports.workbook(projects, exports.coverage(current_user, filters))
    return send_file(_bytes(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"projects-{china_today().isoformat()}.xlsx")


@bp.get("/subsidies/export.xlsx")
def export_subsidies():
    """Subsidy claims the reader may see, one row per loan per quarter (filters: programme,
    period)."""
    claims = subsidies.claims_for(current_user, programme=request.args.get("programme") or None,
                                  period=request.args.get("period") or None,
                                  limit=exports.MAX_ROWS)
    return send_file(_bytes(exports.subsidy_workbook(claims)), mimetype=XLSX,
                     as_attachment=True,
                     download_name=f"subsidies-{china_today().isoformat()}.xlsx")


@bp.get("/projects/export.csv")
def export_csv():
    projects = list(exports.matching_projects(current_user, _filters()))
    return send_file(_bytes(exports.csv_text(projects).encode("utf-8")),
                     mimetype="text/csv; charset=utf-8", as_attachment=True,
                     download_name=f"projects-{china_today().isoformat()}.csv")


def _bytes(data: bytes):
    return io.BytesIO(data)


def _agency():
    if not access.is_agency(current_user):
        abort(403)


@bp.get("/imports/template.xlsx")
def import_template():
    _agency()
    return send_file(_bytes(imports.template()), mimetype=XLSX, as_attachment=True,
                     download_name="declarations-template.xlsx")


@bp.route("/imports", methods=["GET", "POST"])
def imports_page():
    _agency()
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_("Choose a file."), "error")
            return redirect(url_for("reporting.imports_page"))
        try:
            job = import_jobs.start_import(current_user, upload.read(), upload.filename)
        except Invalid as err:
            flash(err.fields.get("file", err.message), "error")
            return redirect(url_for("reporting.imports_page"))
        return redirect(url_for("reporting.import_job", job_id=job.public_id))
    jobs = db.session.scalars(db.select(Job).where(Job.user_id == current_user.id,
                                                   Job.kind == "import")
                              .order_by(Job.id.desc()).limit(20))
    return render_template("reporting/imports.html", jobs=list(jobs))


def _job(job_id) -> Job:
    try:
        key = uuid.UUID(str(job_id))
    except ValueError:
        abort(404)
    job = db.session.scalar(db.select(Job).where(Job.public_id == key, Job.kind == "import",
                                                 Job.user_id == current_user.id))
    if job is None:
        abort(404)
    return job


@bp.get("/imports/<job_id>")
def import_job(job_id):
    return render_template("reporting/import_job.html", job=_job(job_id))


@bp.get("/imports/<job_id>/progress")
def import_progress(job_id):
    job = _job(job_id)
    return jsonify(status=job.status, stage=job.stage, done=job.done, total=job.total,
                   created=job.created, errors=job.error_count, attempts=job.attempts)
