"""Declaring and editing projects, their steps, and finding the ones a user may see.

Every change here is a step of the workflow engine — a trigger (`take_step`) or an
audit-only step (`create_project`, `update_project` and its change request) — written by its
one step writer; who may do what is asked of `app.access` first.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import Select, bindparam, column, exists, func, select, table
from sqlalchemy.orm import joinedload, selectinload

from .. import access
from ..database import NAME_SEARCH_TABLE
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..i18n import gettext as _
from ..models import (
    ChangeRequest,
    ChangeStatus,
    EquipmentItem,
    ListEntry,
    Organization,
    Project,
    Status,
    User,
    china_today,
    utcnow,
)
from ..rules.change_filing import change_filing_reasons
from ..rules.guards import pending_change_of
from ..rules.project_input import ProjectCreate, ProjectPatch
from ..rules.project_values import (
    apply_values,
    check_values,
    current_values,
    enterprise_by_credit_code,
    field_changes,
    values_before,
)
from ..validation import jsonable
from ..workflow import CREATE, EDIT, IMPORT, REQUEST_CHANGE, workflows
from ..workflow.state import ProjectState
from .regions import find_place


def get_project(user: User, public_id: str | uuid.UUID, *, whole=False) -> Project:
    """The project with this public id if `user` may see it; NotFound otherwise.

    `whole`: with its enterprise, place and equipment, for the pages that show them all."""
    project = db.session.scalar(_project_query(whole), {"key": parse_public_id(public_id)})
    if refusal := access.see_refusal(user, project):
        raise refusal
    return project


@cache
def _project_query(whole: bool) -> Select:
    """Built once: building the statement and its loader options, and the cache key
    SQLAlchemy derives from them on each execution, cost more than running it."""
    query = select(Project).where(Project.public_id == bindparam("key"))
    if whole:
        query = query.options(joinedload(Project.enterprise), joinedload(Project.jurisdiction),
                              selectinload(Project.equipment))
    return query


def parse_public_id(public_id: str | uuid.UUID) -> uuid.UUID:
    """A project's public id from a URL; NotFound when it cannot be one."""
    try:
        return public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound(_("No such project.")) from None


def create_project(actor: User, payload: ProjectCreate, *, on_behalf_of=None,
                   imported_from: str | None = None, imported_row: int | None = None,
                   redeclared_from: str | None = None) -> Project:
    """A new draft of the actor's enterprise, with its 'create' audit event — or, entered by
    an agency from an offline declaration, a draft of that enterprise ('import' event, with
    the file and row it came from)."""
    values = payload.model_dump(exclude_unset=True)
    if on_behalf_of is None:
        refusal, enterprise = access.declare_refusal(actor), actor.organization
    else:
        enterprise = on_behalf_of
        refusal = access.enter_for_refusal(actor, enterprise, values["jurisdiction"])
    if refusal:
        raise refusal
    check_values(values)

    def declare(state: ProjectState, _changes) -> dict:
        state.enterprise_id = enterprise.id
        apply_values(state, values)
        data = jsonable(values)
        if redeclared_from:
            data["redeclared_from"] = redeclared_from
        if imported_from:
            data["imported_from"] = imported_from
            if imported_row is not None:
                data["imported_row"] = imported_row
        return data

    state = workflows().create(actor, IMPORT if imported_from else CREATE, declare)
    return db.session.get(Project, state.id)


def redeclare(actor: User, project: Project, today: date | None = None) -> Project:
    """A new draft declaring an exited project (退库) again: its declaration and equipment
    copied, for this year's batch, without the old project code (a new filing gives one)."""
    if refusal := access.redeclare_refusal(actor, project):
        raise refusal
    values = {k: v for k, v in current_values(project).items()
              if v is not None and k != "project_code"}
    values["batch_year"] = (today or china_today()).year
    values["equipment"] = [
        {"kind": e.kind, "name": e.name, "quantity": e.quantity, "unit_price": e.unit_price,
         "years_in_service": e.years_in_service, "energy_grade": e.energy_grade}
        for e in db.session.scalars(select(EquipmentItem).where(
            EquipmentItem.project_id == project.id).order_by(EquipmentItem.position))]
    return create_project(actor, ProjectCreate.model_validate(values),
                          redeclared_from=str(project.public_id))


def update_project(actor: User, project: Project, patch: ProjectPatch,
                   today: date | None = None) -> Project:
    """Edit a project; `patch.version` is the version the actor saw.

    Drafts and returned projects change at once. A filed project changes at once for small
    edits; an edit the change-filing rule names becomes a change request for the filing
    agency, and takes effect when that agency registers it.
    """
    changes = patch.model_dump(exclude_unset=True, exclude={"version"})
    today = today or china_today()
    if refusal := access.edit_refusal(actor, project):
        raise refusal
    if patch.version != project.version:
        raise Conflict(_("The project changed since you loaded it; reload and try again."))
    filed = access.is_filed(project)
    if not filed and "enterprise_credit_code" in changes:
        raise Invalid(_("Please correct the marked fields."), fields={
            "enterprise_credit_code": _("A project changes hands only by a change filing "
                                        "after it is filed.")})
    if filed and changes.get("project_code", project.project_code) != project.project_code:
        raise Invalid(_("Please correct the marked fields."), fields={
            "project_code": _("The project code cannot change after filing.")})
    check_values({**current_values(project), **changes}, code_follows_location=not filed)
    reasons = change_filing_reasons(project, changes, today) if filed else []
    if reasons:
        _request_change(actor, project, patch.version, changes, reasons, today)
    else:
        before = values_before(project, changes)

        def edit(state: ProjectState, _changes) -> dict:
            fields = field_changes(state, changes)
            apply_values(state, changes)
            return {"changes": jsonable(changes), "before": before, "fields": fields}

        workflows().record(project, EDIT, actor, version=patch.version, change=edit, today=today)
    return project


def _request_change(actor, project, version, changes, reasons, today) -> None:
    if pending_change_of(project) is not None:
        raise Conflict(_("A change filing for this project is already pending."))
    if "enterprise_credit_code" in changes:
        enterprise_by_credit_code(changes["enterprise_credit_code"])
    engine = workflows()
    approve = next(iter(engine.for_project(project).transitions_for("approve_change")), None)
    if approve is None:
        raise Conflict(_("This document's workflow has no change filing step."))

    def request(state: ProjectState, step_changes) -> dict:
        row = ChangeRequest(project_id=state.id, changes=jsonable(changes), reasons=reasons,
                            status=ChangeStatus.PENDING, requested_by_id=actor.id,
                            requested_at=utcnow())
        step_changes.add(row)
        state.staged["change_request"] = row  # the filing agency now owes a decision on it
        return {"changes": jsonable(changes), "reasons": reasons,
                "before": values_before(project, changes),
                "fields": field_changes(state, changes)}

    engine.record(project, REQUEST_CHANGE, actor, version=version, change=request,
                  clause=approve.clause, today=today)


def take_step(actor: User, project: Project | ProjectState, trigger: str, *, version: int,
              comment: str | None = None, data: dict | None = None,
              today: date | None = None) -> ProjectState:
    """Fire a workflow trigger on a project the actor may see (404 otherwise)."""
    if refusal := access.see_refusal(actor, project):
        raise refusal
    return workflows().fire(project, trigger, actor, version=version, comment=comment,
                            data=data, today=today)


@dataclass
class ProjectFilter:
    status: list[str] | None = None
    industry: str | None = None
    jurisdiction: str | None = None
    year: int | None = None
    q: str | None = None


# What a list row shows: names of the enterprise, lead bank and place. The organisations'
# own jurisdictions are not shown, and joining them only made the query slower to plan.
LIST_LOADING = (joinedload(Project.enterprise).lazyload(Organization.jurisdiction),
                joinedload(Project.lead_bank).lazyload(Organization.jurisdiction),
                joinedload(Project.jurisdiction))


def list_projects(user: User, filters: ProjectFilter, *, limit: int = 50,
                  cursor: str | None = None,
                  listed_only: bool = False) -> tuple[list[Project], str | None]:
    """A page of the projects `user` may see, newest first, with the cursor of the next page.

    `listed_only`: only projects on a whitelist (the bank marketplace)."""
    query = _matching(user, filters, listed_only).limit(limit + 1)
    if cursor:
        query = query.where(Project.id < decode_cursor(cursor))
    # The page's ids first, then their rows with what a row shows: joining first would join
    # every match of a broad filter (a common word searched) before the limit applies.
    page = query.subquery()
    rows = list(db.session.scalars(
        select(Project).join(page, page.c.id == Project.id).options(*LIST_LOADING)
        .order_by(Project.id.desc())).unique())
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


COUNT_CAP = 10_000


def count_projects(user: User, filters: ProjectFilter, *, listed_only: bool = False) -> int:
    """How many projects the filters match, counted up to COUNT_CAP (a page says "10,000+"
    beyond: counting a province's every project on each page view buys nothing)."""
    capped = _matching(user, filters, listed_only).order_by(None).limit(COUNT_CAP + 1)
    return db.session.scalar(select(func.count()).select_from(capped.subquery()))


def _matching(user: User, filters: ProjectFilter, listed_only: bool) -> Select:
    """The ids of the projects `user` may see that the filters match, newest first."""
    query = (select(Project.id).where(access.visible_condition(user))
             .order_by(Project.id.desc()))
    if listed_only:
        query = query.where(exists().where(ListEntry.project_id == Project.id))
    if filters.status:
        unknown = [s for s in filters.status if s not in Status.__members__.values()]
        if unknown:
            raise Invalid(_("Unknown status."), fields={"status": ", ".join(unknown)})
        query = query.where(Project.status.in_([Status(s) for s in filters.status]))
    if filters.industry:
        query = query.where(Project.industry == filters.industry)
    if filters.year:
        query = query.where(Project.batch_year == filters.year)
    if filters.jurisdiction:
        place = find_place(user, filters.jurisdiction)
        if place is None:
            raise Invalid(_("Unknown jurisdiction."), fields={"jurisdiction": _(
                "No region of that name or code; choose one from the list.")})
        query = query.where(access.within(place))
    if filters.q:
        query = searched(query, filters.q)
    return query


NAME_SEARCH = table(NAME_SEARCH_TABLE, column("rowid"), column("name"))
PROJECT_CODE = re.compile(r"^\d{4}-[\d-]*$")
CREDIT_CODE = re.compile(r"^[0-9A-Z]{18}$")


def searched(query: Select, needle: str) -> Select:
    """`query` narrowed to what `needle` names: a 项目代码 (or its beginning), an enterprise's
    统一社会信用代码, or else words of the project's name. Each by its own index."""
    needle = needle.strip()
    if PROJECT_CODE.match(needle):
        return query.where(Project.project_code.like(f"{needle}%"))
    if CREDIT_CODE.match(needle.upper()):
        return query.where(Project.enterprise_id.in_(
            select(Organization.id).where(Organization.credit_code == needle.upper())))
    return named_like(query, needle)


def named_like(query: Select, needle: str) -> Select:
    """`query` (project ids, newest first) narrowed to names containing `needle`, in any case.

    On PostgreSQL pg_trgm's index serves the condition. On SQLite the FTS5 trigram table
    drives the query in its own rowid order, so a common word stops at the first page of
    matches rather than collecting them all first. That table matches nothing shorter than
    a trigram and cannot use its index with an ESCAPE clause, so short text and text with
    LIKE wildcards take the plain scan."""
    if (db.engine.dialect.name == "sqlite" and len(needle) >= 3
            and not set(needle) & set("%_\\")):
        return (query.join(NAME_SEARCH, NAME_SEARCH.c.rowid == Project.id)
                .where(NAME_SEARCH.c.name.like(f"%{needle}%"))
                .order_by(None).order_by(NAME_SEARCH.c.rowid.desc()))
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return query.where(Project.name.ilike(f"%{escaped}%", escape="\\"))


MAX_ID = 2**31 - 1  # the largest an INTEGER key (projects, deadlines) holds, on either database


def encode_cursor(last_id: int) -> str:
    return str(last_id)


CURSOR = re.compile(r"[1-9][0-9]{0,17}")  # a row id, as the API document states it


def decode_cursor(cursor: str) -> int:
    """The row id a page ended at; the API document states the same pattern. A cursor
    beyond every id the key can hold starts from the newest, as it would on any database."""
    if not CURSOR.fullmatch(cursor):
        raise Invalid(_("Invalid cursor."), fields={"cursor": _("Invalid cursor.")})
    return min(int(cursor), MAX_ID)
