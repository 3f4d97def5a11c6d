"""API v1 routes: each parses the request, calls one operation (which asks `app.access`:
404, 403) and answers."""

from typing import TypeVar

from flask import g, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from .. import access
from ..accounts import operations as accounts
from ..accounts.principals import read_caller_and_state
from ..accounts.security import log_event
from ..errors import BadRequest, Forbidden, Invalid, NotFound
from ..extensions import db
from ..financing import operations as financing
from ..financing import subsidies
from ..i18n import gettext as _
from ..labels import ROLE_LABELS, step_label
from ..models import Jurisdiction, Status, WorkflowEvent, china_today
from ..projects import attachments, designations, progress
from ..projects.operations import (
    ProjectFilter,
    create_project,
    decode_cursor,
    get_project,
    list_projects,
    parse_public_id,
    redeclare,
    take_step,
    update_project,
)
from ..reporting import dashboard as reports
from ..review import bulk, people
from ..review import overdue as deadlines
from ..review import queue as owed
from ..review.queue import QueueFilter
from ..rules.project_input import ProjectCreate, ProjectPatch
from ..validation import too_deep, validation_fields
from ..workflow import workflows
from .base import api_user, bearer_token, bp, unauthorized
from .openapi import openapi_document
from .requests import (
    JURISDICTION,
    MARKET_QUERY,
    PROGRESS_QUERY,
    PROJECT_QUERY,
    QUEUE_QUERY,
    STATS_QUERY,
    SUBSIDY_QUERY,
    VERSION,
    BulkTransitionRequest,
    DesignationsRequest,
    HoldRequest,
    IntendedBanksRequest,
    OrganizationCreate,
    TransitionRequest,
)
from .serializers import (
    attachment_json,
    bulk_item_json,
    deadline_json,
    definition_json,
    event_json,
    financing_json,
    loan_json,
    market_json,
    project_detail,
    project_state,
    project_summary,
    queue_item_json,
    subsidy_claim_json,
    subsidy_totals_json,
    summary_json,
)

M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M]) -> M:
    """The request body validated against `model`; 422 naming each bad field otherwise."""
    try:
        return model.model_validate_json(request.get_data() or b"{}")
    except ValidationError as err:
        if any("recursion limit" in e["msg"] for e in err.errors()):
            raise too_deep() from err
        if any(e["type"] in ("json_invalid", "json_type") for e in err.errors()):
            raise BadRequest(_("The request body is not valid JSON."),
                             fields={"body": _("The request body is not valid JSON.")}) from err
        raise Invalid(_("The request is not valid."), fields=validation_fields(err)) from err


def query(*params) -> dict:
    """The query parameters, each checked against its documented type (422 naming it)."""
    return {param.name: param.parse(request.args) for param in params}


@bp.get("/projects")
def projects_index():
    args = query(*PROJECT_QUERY)
    filters = ProjectFilter(status=args["status"], industry=args["industry"],
                            jurisdiction=args["jurisdiction"], year=args["year"], q=args["q"])
    items, next_cursor = list_projects(api_user(), filters, limit=args["limit"] or 50,
                                       cursor=args["cursor"])
    return {"items": [project_summary(p) for p in items], "next_cursor": next_cursor}


@bp.post("/projects")
def projects_create():
    project = create_project(api_user(), parse_body(ProjectCreate))
    return project_detail(project, api_user()), 201


@bp.get("/projects/<project_id>")
def projects_show(project_id):
    return project_detail(get_project(api_user(), project_id, whole=True), api_user())


@bp.patch("/projects/<project_id>")
def projects_update(project_id):
    project = get_project(api_user(), project_id)
    patch = parse_body(ProjectPatch)
    return project_detail(update_project(api_user(), project, patch), api_user())


@bp.post("/projects/<project_id>/transitions")
def projects_transition(project_id):
    try:
        key = parse_public_id(project_id)
    except NotFound:
        key = None  # still 401 for a bad token: the caller is checked first
    token = bearer_token()
    who, state = read_caller_and_state(token, key)
    if who is None:
        return unauthorized(token)
    g.api_caller = who
    if state is None:
        raise NotFound(_("No such project."))
    body = parse_body(TransitionRequest)
    moved = take_step(who, state, body.trigger, version=body.version,
                             comment=body.comment, data=body.data)
    if _prefers_minimal():
        return project_state(moved), 200, {"Preference-Applied": "return=minimal"}
    try:  # as the caller read with the step (access takes it as it takes a user)
        return project_detail(get_project(who, moved.public_id, whole=True), who)
    except NotFound:  # the step (a change filing) moved it beyond the caller's jurisdiction
        return {**project_state(moved), "jurisdiction": moved.jurisdiction_code,
                "message": _("Done. The project now lies outside your jurisdiction.")}


@bp.post("/bulk-transitions")
def bulk_transitions():
    """One trigger on up to 500 projects, each checked and written as its own step: a result
    per item, in the order given (done with the new status and version, or the refusal)."""
    body = parse_body(BulkTransitionRequest)
    outcomes = bulk.decide(api_user(), body.trigger, [(i.id, i.version) for i in body.items],
                           comment=body.comment, data=body.data)
    if any(not o.done and o.error.status == 403 for o in outcomes):
        log_event("access_denied", user=g.get("api_caller"),
                  detail=next(o.message for o in outcomes if not o.done and o.error.status == 403))
    done = sum(o.done for o in outcomes)
    return {"items": [bulk_item_json(o) for o in outcomes], "done": done,
            "refused": len(outcomes) - done}


@bp.post("/projects/<project_id>/steps/<step_id>/<action>")
def projects_hold(project_id, step_id, action):
    """Claim (认领), release (释放) or, for a head of section, reassign (转办) an owed step."""
    project = get_project(api_user(), project_id)
    step_id = people.step_key(step_id, action)
    body = parse_body(HoldRequest)
    if action == "reassign":
        people.reassign(api_user(), project, step_id, body.to or "", body.reason or "",
                        version=body.version)
    else:
        getattr(people, action)(api_user(), project, step_id, version=body.version)
    return project_detail(get_project(api_user(), project.public_id, whole=True), api_user())


def _prefers_minimal() -> bool:
    """RFC 7240 `Prefer: return=minimal`: the caller (a bank's or agency's system firing
    many steps) needs only the new status and version, not the whole project."""
    preferences = request.headers.get("Prefer", "").split(",")
    return any(p.split(";", 1)[0].strip().lower() == "return=minimal" for p in preferences)


@bp.get("/projects/<project_id>/events")
def projects_events(project_id):
    project = get_project(api_user(), project_id)
    events = db.session.scalars(select(WorkflowEvent).where(WorkflowEvent.project_id == project.id)
                                .order_by(WorkflowEvent.seq))
    return {"items": [event_json(e, project) for e in events if access.event_visible(api_user(), e)]}


@bp.get("/projects/<project_id>/attachments")
def projects_attachments(project_id):
    project = get_project(api_user(), project_id)
    return {"items": [attachment_json(a, access.can_delete_attachment(api_user(), project, a))
                      for a in attachments.attachments_of(project)]}


@bp.delete("/projects/<project_id>/attachments/<attachment_id>")
def projects_attachment_delete(project_id, attachment_id):
    project = get_project(api_user(), project_id)
    attachments.delete(api_user(), project, attachment_id)
    return "", 204


@bp.put("/projects/<project_id>/intended-banks")
def projects_intended_banks(project_id):
    project = get_project(api_user(), project_id)
    body = parse_body(IntendedBanksRequest)
    financing.set_intended_banks(api_user(), project, body.version,
                                 financing.parse_ids(body.banks))
    return project_detail(project, api_user())


@bp.get("/projects/<project_id>/financing")
def projects_financing(project_id):
    project = get_project(api_user(), project_id)
    return financing_json(financing.financing(api_user(), project))


@bp.get("/banks")
def banks_index():
    """Banks serving a place (for naming intended banks)."""
    code = JURISDICTION.parse(request.args) or api_user().organization.jurisdiction_code
    if db.session.get(Jurisdiction, code) is None:
        raise Invalid(_("Unknown jurisdiction."), fields={"jurisdiction": _("Unknown jurisdiction.")})
    return {"items": [{"id": b.public_id, "name": b.name} for b in financing.banks_serving(code)]}


@bp.get("/market")
def market_index():
    """Whitelisted projects in the regions the calling bank serves."""
    if not access.is_bank(api_user()):
        raise Forbidden(_("The marketplace is for banks."))
    args = query(*MARKET_QUERY)
    items, next_cursor = list_projects(
        api_user(), ProjectFilter(status=[Status.FINANCING_MATCHMAKING.value],
                                  industry=args["industry"]),
        limit=args["limit"] or 50, cursor=args["cursor"], listed_only=True)
    return {"items": [market_json(p, financing.intended_banks(p)) for p in items],
            "next_cursor": next_cursor}


@bp.get("/loans")
def loans_index():
    """The caller's loan book: a bank's own loans, or the loans in an agency's region."""
    return {"items": [loan_json(loan, figures, project)
                      for loan, project, figures in financing.loan_book(api_user())]}


@bp.put("/projects/<project_id>/designations")
def projects_designations(project_id):
    """The accepting agency's key-list and demonstration tags: `{"tags": [...], "comment"}`."""
    user = api_user()
    body = parse_body(DesignationsRequest)
    tags = designations.designate(user, get_project(user, project_id), set(body.tags),
                                  body.comment)
    return {"tags": tags}


@bp.post("/projects/<project_id>/redeclare")
def projects_redeclare(project_id):
    """An exited project (退库) declared again by its enterprise: 201, the new draft."""
    user = api_user()
    draft = redeclare(user, get_project(user, project_id))
    return project_detail(draft, user), 201


@bp.get("/progress")
def progress_index():
    """Monthly progress reports (月调度) of the projects the caller may see, newest first;
    `project=` narrows to one (then with the month owed, its due day and whether it is late),
    `problems=open` to problems awaiting an answer."""
    user, project, args = api_user(), None, query(*PROGRESS_QUERY)
    if args["project"]:
        project = get_project(user, parse_public_id(args["project"]))
    items, next_cursor = progress.visible_reports(
        user, project_id=project.id if project else None,
        open_problems=args["problems"] == "open", limit=args["limit"] or 50,
        cursor=decode_cursor(args["cursor"]) if args["cursor"] else None)
    body = {"items": [progress.report_json(r, p) for r, p in items],
            "next_cursor": str(next_cursor) if next_cursor else None}
    if project is not None:
        found = progress.progress_of(project, workflows().for_project(project))
        body["owed"] = {"month": found.owed_month, "due_on": found.due_on.isoformat()
                        if found.due_on else None, "late": found.late,
                        "report_day": found.report_day.value if found.report_day else None,
                        "report_day_basis": "local"}
    return body


@bp.get("/subsidies")
def subsidies_index():
    """The subsidy claims the caller may see (filters: project, programme, period), with
    their totals: claimed, approved, paid, clawed back."""
    args, project_id = query(*SUBSIDY_QUERY), None
    if args["project"]:
        project_id = get_project(api_user(), args["project"]).id
    filters = {"project_id": project_id, "programme": args["programme"] or None,
               "period": args["period"] or None}
    rows = subsidies.claims_for(api_user(), **filters)
    return {"items": [subsidy_claim_json(claim, project) for claim, project in rows],
            "totals": subsidy_totals_json(subsidies.totals_for(api_user(), **filters))}


@bp.get("/stats/summary")
def stats_summary():
    """Counts by stage and industry, investment sums, financing, plan vs actual."""
    args = query(*STATS_QUERY)
    report = reports.summary(api_user(), args["jurisdiction"], args["year"])
    return summary_json(report)


@bp.get("/queue")
def queue_index():
    """The caller's owed steps (the queue page's, with its filters), each with its project."""
    args, today = query(*QUEUE_QUERY), china_today()
    filters = QueueFilter(step=args["step"], industry=args["industry"], region=args["region"],
                          year=args["year"], overdue=bool(args["overdue"]),
                          sort=args["sort"] or "due")
    rows, next_cursor = owed.queue(api_user(), filters, today, limit=args["limit"] or 50,
                                   cursor=args["cursor"])
    return {"items": [queue_item_json(row, today) for row in rows], "next_cursor": next_cursor,
            "counts": [{"trigger": trigger, "step": str(step_label(trigger)), "owed": n,
                        "overdue": late} for trigger, n, late in owed.step_counts(
                            api_user(), filters, today)]}


@bp.get("/overdue")
def overdue_index():
    rows = deadlines.overdue(api_user(), china_today())
    return {
        "by_agency": [{"role": role, "level": level or None, "count": count,
                       "role_label": str(ROLE_LABELS[role])}
                      for role, level, count in deadlines.overdue_by_agency(rows)],
        "items": [{**deadline_json(row), "project": project_summary(row.project)} for row in rows],
    }


@bp.get("/workflows")
def workflows_index():
    return {"items": [definition_json(d) for d in sorted(
        workflows().definitions.values(), key=lambda d: (d.jurisdiction, d.key, d.version))]}


@bp.get("/workflows/<key>")
def workflows_show(key):
    version = VERSION.parse(request.args)
    try:
        definition = (workflows().get(key, version) if version else workflows().latest(key))
    except (KeyError, ValueError):
        raise NotFound(_("No such workflow.")) from None
    return definition_json(definition, full=True)


@bp.post("/organizations")
def organizations_create():
    if not access.can_register_organizations(api_user()):
        raise Forbidden(_("Only administrators register organisations."))
    body = parse_body(OrganizationCreate)
    org = accounts.create_organization(kind=body.kind, name=body.name,
                                       jurisdiction_code=body.jurisdiction,
                                       credit_code=body.credit_code, agency_kind=body.agency_kind,
                                       serves=body.serves)
    return {"id": org.public_id, "name": org.name, "kind": org.kind.value,
            "credit_code": org.credit_code, "jurisdiction": org.jurisdiction_code,
            "serves": [area.code for area in org.service_areas]}, 201


@bp.get("/openapi.json")
def openapi():
    return openapi_document()
