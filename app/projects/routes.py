"""Project pages. Each view loads (404), lets the service check access (403), and renders."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from pydantic import ValidationError
from sqlalchemy import select

from .. import access
from ..errors import DomainError, Invalid
from ..extensions import db
from ..financing.operations import parse_ids, set_intended_banks
from ..i18n import gettext as _
from ..labels import step_label
from ..models import Jurisdiction, Level, Project, china_today
from ..review import people
from ..rules.guards import missing_declaration_fields
from ..rules.parameters import parameter
from ..rules.project_input import ProjectCreate, ProjectPatch
from ..rules.project_values import current_values
from ..validation import validation_fields
from ..workflow.vocabulary import TRIGGERS
from . import attachments as files
from .actions import inputs_for, read_inputs
from .comments import add_comment
from .designations import designate
from .forms import AttachmentForm, CommentForm, EquipmentRowForm, ProjectForm, choices
from .operations import (
    ProjectFilter,
    count_projects,
    create_project,
    get_project,
    list_projects,
    redeclare,
    take_step,
    update_project,
)
from .page import print_page, project_page
from .regions import regions

bp = Blueprint("projects", __name__)
bp.before_request(login_required(lambda: None))


def _county_choices():
    counties = db.session.scalars(select(Jurisdiction).where(Jurisdiction.level == Level.COUNTY)
                                  .order_by(Jurisdiction.code))
    return choices((place.code, place.full_name) for place in counties)


def _project_form(**kwargs) -> ProjectForm:
    form = ProjectForm(**kwargs)
    form.jurisdiction.choices = _county_choices()
    return form


def _edit_rows(form: ProjectForm) -> bool:
    """Add or remove an equipment row without saving (works without JavaScript)."""
    if "add_row" in request.form:
        form.equipment.append_entry()
        return True
    if "remove_row" in request.form:
        index = request.form.get("remove_row", type=int)
        entries = form.equipment.entries
        if index is not None and 0 <= index < len(entries) and len(entries) > 1:
            entries.pop(index)
        return True
    return False


def _show_errors(form: ProjectForm, err: DomainError) -> None:
    rows = [i for i, entry in enumerate(form.equipment.entries) if not entry.form.is_blank()]
    for name, message in err.fields.items():
        parts = name.split(".")
        target = form._fields.get(parts[0])
        if parts[0] == "equipment" and len(parts) == 3 and int(parts[1]) < len(rows):
            target = form.equipment.entries[rows[int(parts[1])]].form[parts[2]]
        if target is not None and not isinstance(target.errors, dict):
            target.errors = [*target.errors, message]
        else:
            flash(message, "error")
    for reason in err.reasons:
        flash(reason, "error")


def _mark_missing(form: ProjectForm, project: Project) -> None:
    for name in missing_declaration_fields(project):
        target = form.equipment.entries[0].form["name"] if name == "equipment" \
            else form._fields.get(name)
        if target is not None and not isinstance(target.errors, dict):
            target.errors = [*target.errors, _("Required before the declaration is submitted.")]


def _render_form(form, project=None, status=200, page=None):
    threshold = parameter("commitment_equipment_share", china_today())
    # the empty row that the page's script copies to add a row without a reload
    row_template = EquipmentRowForm(prefix="equipment-__prefix__-")
    return render_template("projects/form.html", form=form, project=project, page=page,
                           threshold=threshold, row_template=row_template), status


def _save(form: ProjectForm, project: Project | None) -> Project:
    payload = form.payload()
    try:
        if project is None:
            return create_project(current_user, ProjectCreate.model_validate(payload, strict=False))
        changes = {k: v for k, v in payload.items() if k in ProjectPatch.model_fields}
        patch = ProjectPatch.model_validate({**changes, "version": form_version()}, strict=False)
        return update_project(current_user, project, patch)
    except ValidationError as err:
        raise Invalid(_("Please correct the marked fields."),
                      fields=validation_fields(err)) from err


def form_version() -> int:
    return request.form.get("version", type=int) or 0


@bp.get("/projects")
def index():
    statuses = [s for s in request.args.getlist("status") if s]
    filters = ProjectFilter(status=statuses or None, industry=request.args.get("industry") or None,
                            jurisdiction=request.args.get("jurisdiction") or None,
                            year=request.args.get("year", type=int),
                            q=(request.args.get("q") or "").strip() or None)
    try:
        items, next_cursor = list_projects(current_user, filters, limit=25,
                                           cursor=request.args.get("cursor") or None)
        total = count_projects(current_user, filters)
    except Invalid as err:  # a filter that names nothing: said beside it, on the page
        return render_template("projects/index.html", items=[], next_url=None, total=None,
                               filters=filters, errors=err.fields,
                               regions=regions(current_user)), 422
    next_url = url_for("projects.index", **{**request.args, "cursor": next_cursor}) \
        if next_cursor else None
    return render_template("projects/index.html", items=items, next_url=next_url,
                           filters=filters, total=total, errors={},
                           regions=regions(current_user))


@bp.route("/projects/new", methods=["GET", "POST"])
def new():
    if access.declare_refusal(current_user):
        abort(403)
    form = _project_form()
    if request.method == "GET":
        form.jurisdiction.data = current_user.organization.jurisdiction_code
        form.batch_year.data = china_today().year
        return _render_form(form)
    if _edit_rows(form) or not form.validate():
        return _render_form(form, status=200 if _edit_rows_requested() else 422)
    try:
        project = _save(form, None)
    except DomainError as err:
        _show_errors(form, err)
        return _render_form(form, status=err.status)
    return _after_save(project)


def _edit_rows_requested() -> bool:
    return "add_row" in request.form or "remove_row" in request.form


@bp.route("/projects/<project_id>/edit", methods=["GET", "POST"])
def edit(project_id):
    project = get_project(current_user, project_id, whole=True)
    if access.owner_refusal(current_user, project):
        abort(403)
    page = project_page(current_user, project)
    if request.method == "GET":
        values = current_values(project)
        values["equipment"] = [{"kind": e.kind.value, "name": e.name, "model": e.model or "",
                                "quantity": e.quantity,
                                "unit_price": e.unit_price, "years_in_service": e.years_in_service,
                                "energy_grade": str(e.energy_grade or "")}
                               for e in project.equipment] or [{}]
        values["task"] = project.task.value if project.task else ""
        values["policy_class"] = project.policy_class.value if project.policy_class else ""
        form = _project_form(data=values)
        if request.args.get("submit"):  # back from a refused submission: mark what it lacks
            _mark_missing(form, project)
        return _render_form(form, project, page=page)
    form = _project_form()
    if _edit_rows(form) or not form.validate():
        return _render_form(form, project, 200 if _edit_rows_requested() else 422, page)
    try:
        project = _save(form, project)
    except DomainError as err:
        _show_errors(form, err)
        return _render_form(form, project, err.status, page)
    return _after_save(project)


def _after_save(project: Project):
    """Save stays a draft; 'submit' also declares it (and reports what is still missing)."""
    if "submit" not in request.form:
        flash(_("Saved."), "success")
        return redirect(url_for("projects.show", project_id=project.public_id))
    try:
        take_step(current_user, project, "submit", version=project.version)
    except DomainError as err:
        flash(_("Saved, but not submitted: %(reason)s", reason=err.message), "error")
        return redirect(url_for("projects.edit", project_id=project.public_id, submit=1))
    flash(_("Submitted. The agency has been told."), "success")
    return redirect(url_for("projects.show", project_id=project.public_id))


@bp.get("/projects/<project_id>")
def show(project_id):
    project = get_project(current_user, project_id, whole=True)
    return _render_show(project)


def _render_show(project, *, action_error=None, status=200):
    # the user itself: the page asks access about it for every line of the timeline, and
    # each read through the `current_user` proxy looks the user up again
    user = current_user._get_current_object()
    page = project_page(user, project)
    return render_template("projects/show.html", page=page, p=project, inputs_for=inputs_for,
                           colleagues=people.colleagues(user)
                           if any(h.reassign for h in page.panel.handling) else [],
                           action_error=action_error, comment_form=CommentForm(),
                           attachment_form=AttachmentForm()), status


@bp.post("/projects/<project_id>/designations")
def designations(project_id):
    project = get_project(current_user, project_id)
    try:
        designate(current_user, project, set(request.form.getlist("tags")),
                  (request.form.get("comment") or "").strip() or None)
    except DomainError as err:
        db.session.rollback()
        if err.status in (403, 404):
            raise
        flash(err.message, "error")
    else:
        flash(_("Designations saved."), "success")
    return redirect(url_for("projects.show", project_id=project.public_id) + "#designations")


@bp.post("/projects/<project_id>/redeclare")
def redeclare_project(project_id):
    project = get_project(current_user, project_id)
    try:
        draft = redeclare(current_user, project)
    except DomainError as err:
        db.session.rollback()
        if err.status in (403, 404):
            raise
        flash(err.message, "error")
        return redirect(url_for("projects.show", project_id=project.public_id))
    flash(_("A new draft declares the project again; check it and submit."), "success")
    return redirect(url_for("projects.edit", project_id=draft.public_id))


@bp.post("/projects/<project_id>/act/<trigger>")
def act(project_id, trigger):
    project = get_project(current_user, project_id)
    # The engine judges the request (role, version, guards) and gives the precise refusal.
    comment, data = read_inputs(trigger, request.form) if trigger in TRIGGERS else (None, {})
    try:
        moved = take_step(current_user, project, trigger, version=form_version(),
                          comment=comment, data=data)
    except DomainError as err:
        db.session.rollback()
        return _render_show(project, action_error=(trigger, err), status=err.status)
    flash(_("Done: %(step)s.", step=step_label(trigger)), "success")
    if not access.can_see(current_user, moved):
        # the step (a change filing) moved it beyond the clerk's jurisdiction
        flash(_("The project now lies outside your jurisdiction."), "info")
        return redirect(url_for("review.queue"))
    # the step's state, not the ORM object it expired: reading that would load it again
    return redirect(url_for("projects.show", project_id=moved.public_id))


@bp.post("/projects/<project_id>/steps/<step_id>/<action>")
def hold(project_id, step_id, action):
    """Claim (认领), release (释放) or reassign (转办) an owed step from the project page."""
    project = get_project(current_user, project_id)
    step_id = people.step_key(step_id, action)
    try:
        if action == "reassign":
            people.reassign(current_user, project, step_id, request.form.get("to", ""),
                            request.form.get("reason", ""), version=form_version())
        else:
            getattr(people, action)(current_user, project, step_id, version=form_version())
    except DomainError as err:
        db.session.rollback()
        return _render_show(project, action_error=(f"{action}-{step_id}", err),
                            status=err.status)
    flash(_("Done: %(step)s.", step=step_label(f"{action}_step")), "success")
    return redirect(url_for("projects.show", project_id=project.public_id) + "#handling")


@bp.post("/projects/<project_id>/intended-banks")
def intended_banks(project_id):
    project = get_project(current_user, project_id)
    try:
        set_intended_banks(current_user, project, form_version(),
                           parse_ids(request.form.getlist("banks")))
    except DomainError as err:
        db.session.rollback()
        return _render_show(project, action_error=("intended_banks", err), status=err.status)
    flash(_("Intended banks saved."), "success")
    return redirect(url_for("projects.show", project_id=project.public_id) + "#finance")


@bp.post("/projects/<project_id>/comments")
def comment(project_id):
    project = get_project(current_user, project_id)
    form = CommentForm()
    if not form.validate():
        flash(_("Write between 1 and %(n)s characters.", n=2000), "error")
    else:
        add_comment(current_user, project, form.body.data)
    return redirect(url_for("projects.show", project_id=project.public_id) + "#comments")


@bp.post("/projects/<project_id>/attachments")
def upload(project_id):
    project = get_project(current_user, project_id)
    form = AttachmentForm()
    if not form.validate():
        return _render_show(project, action_error=("upload", Invalid(
            _("Choose a file."), fields={"file": _("Choose a file.")})), status=422)
    data = form.file.data.read(current_app.config["ATTACHMENT_MAX_BYTES"] + 1)
    try:
        files.upload(current_user, project, form.kind.data, form.file.data.filename or "", data)
    except DomainError as err:
        return _render_show(project, action_error=("upload", err), status=err.status)
    flash(_("File added."), "success")
    return redirect(url_for("projects.show", project_id=project.public_id) + "#files")


@bp.post("/projects/<project_id>/attachments/<attachment_id>/delete")
def delete_attachment(project_id, attachment_id):
    project = get_project(current_user, project_id)
    files.delete(current_user, project, attachment_id)
    flash(_("File deleted."), "success")
    return redirect(url_for("projects.show", project_id=project.public_id) + "#files")


@bp.get("/projects/<project_id>/attachments/<attachment_id>")
def download(project_id, attachment_id):
    project = get_project(current_user, project_id)
    attachment = files.find(current_user, project, attachment_id)
    response = send_file(files.file_store().path(attachment.storage_key),
                         mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/projects/<project_id>/print/<document>")
def print_document(project_id, document):
    if document not in ("declaration", "commitment"):
        abort(404)
    project = get_project(current_user, project_id, whole=True)
    page = print_page(current_user, project)
    return render_template(f"projects/print_{document}.html", page=page, p=project,
                           today=china_today())

