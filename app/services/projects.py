"""Declaring and editing projects, and finding the ones a user may see."""

import base64
import binascii
import uuid
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from ..database import unit_of_work
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..models import (
    EquipmentItem,
    Jurisdiction,
    Level,
    OrgKind,
    Project,
    Status,
    User,
    ancestor_codes,
    utcnow,
)
from ..validation import jsonable
from ..workflow import CREATE, EDIT, advance, record_event
from .access import can_see, visible_condition, within
from .project_input import ProjectCreate, ProjectFields, ProjectPatch

EDITABLE = (Status.DRAFT, Status.RETURNED)
SCALARS = tuple(name for name in ProjectFields.model_fields if name not in ("jurisdiction",
                                                                             "equipment"))


def get_project(user: User, public_id: str | uuid.UUID, *, load_equipment=False) -> Project:
    """The project with this public id if `user` may see it; NotFound otherwise."""
    try:
        key = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound(_("No such project.")) from None
    query = select(Project).where(Project.public_id == key)
    if load_equipment:
        query = query.options(selectinload(Project.equipment))
    project = db.session.scalar(query)
    if project is None or not can_see(user, project):
        raise NotFound(_("No such project."))
    return project


def create_project(actor: User, payload: ProjectCreate) -> Project:
    """A new draft of the actor's enterprise, with its 'create' audit event."""
    if actor.organization.kind != OrgKind.ENTERPRISE:
        raise Forbidden(_("Only enterprises declare projects."))
    values = payload.model_dump(exclude_unset=True)
    with unit_of_work():
        _check(values)
        now = utcnow()
        project = Project(enterprise_id=actor.organization_id, status=Status.DRAFT, version=1,
                          jurisdiction_code=values["jurisdiction"], created_at=now,
                          updated_at=now, status_changed_at=now)
        _apply(project, values)
        db.session.add(project)
        _flush_unique()
        record_event(project, CREATE, None, Status.DRAFT, actor, clause=None, comment=None,
                     data=jsonable(values), at=now)
    return project


def update_project(actor: User, project: Project, patch: ProjectPatch) -> Project:
    """Edit a draft or returned project; `patch.version` is the version the actor saw."""
    changes = patch.model_dump(exclude_unset=True, exclude={"version"})
    with unit_of_work():
        if project.enterprise_id != actor.organization_id:
            raise Forbidden(_("Only the declaring enterprise may edit the project."))
        if patch.version != project.version:
            raise Conflict(_("The project changed since you loaded it; reload and try again."))
        if project.status not in EDITABLE:
            raise Conflict(_("Only drafts and returned projects can be edited."))
        merged = {**current_values(project), **changes}
        _check(merged)
        now = utcnow()
        advance(project, patch.version, now)
        _apply(project, changes)
        _flush_unique()
        record_event(project, EDIT, project.status, project.status, actor, clause=None,
                     comment=None, data=jsonable(changes), at=now)
    return project


def current_values(project: Project) -> dict:
    values = {name: getattr(project, name) for name in SCALARS}
    values["jurisdiction"] = project.jurisdiction_code
    return values


def _check(values: dict) -> None:
    """Rules across fields and against the database; all problems reported at once."""
    errors: dict[str, str] = {}
    total = values.get("total_investment")
    for part in ("fixed_asset_investment", "equipment_investment", "annual_investment"):
        value = values.get(part)
        if total is not None and value is not None and value > total:
            errors[part] = _("Cannot exceed total investment.")
    start, end = values.get("planned_start"), values.get("planned_end")
    if start and end and end < start:
        errors["planned_end"] = _("Completion cannot precede the start.")
    code = values.get("jurisdiction")
    place = db.session.get(Jurisdiction, code) if code else None
    if code and (place is None or place.level != Level.COUNTY):
        errors["jurisdiction"] = _("Not a known county-level jurisdiction code.")
    project_code = values.get("project_code")
    if project_code and code and project_code[5:11] not in ancestor_codes(code):
        errors["project_code"] = _("Its region segment %(region)s does not match the project's "
                                   "location.", region=project_code[5:11])
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)


def _apply(project: Project, values: dict) -> None:
    for name in SCALARS:
        if name in values:
            value = values[name]
            setattr(project, name, bool(value) if name == "new_land" else value)
    if "jurisdiction" in values:
        project.jurisdiction_code = values["jurisdiction"]
    if values.get("equipment") is not None:
        project.equipment = [EquipmentItem(position=i, **item)
                             for i, item in enumerate(values["equipment"], start=1)]


def _flush_unique() -> None:
    try:
        db.session.flush()
    except IntegrityError as err:
        if "project_code" in str(err.orig):
            raise Invalid(_("Please correct the marked fields."),
                          fields={"project_code": _("Another project already has this code.")}
                          ) from err
        raise


@dataclass
class ProjectFilter:
    status: list[str] | None = None
    industry: str | None = None
    jurisdiction: str | None = None
    year: int | None = None
    q: str | None = None


def list_projects(user: User, filters: ProjectFilter, *, limit: int = 50,
                  cursor: str | None = None) -> tuple[list[Project], str | None]:
    """A page of the projects `user` may see, newest first, with the cursor of the next page."""
    query = (select(Project).where(visible_condition(user))
             .options(joinedload(Project.enterprise), joinedload(Project.lead_bank),
                      joinedload(Project.jurisdiction))
             .order_by(Project.id.desc()).limit(limit + 1))
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
        place = db.session.get(Jurisdiction, filters.jurisdiction)
        if place is None:
            raise Invalid(_("Unknown jurisdiction."), fields={"jurisdiction": filters.jurisdiction})
        query = query.where(within(place))
    if filters.q:
        escaped = filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Project.name.ilike(f"%{escaped}%", escape="\\"))
    if cursor:
        query = query.where(Project.id < decode_cursor(cursor))
    rows = list(db.session.scalars(query).unique())
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"p{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("p"):
            raise ValueError
        return int(raw[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid(_("Invalid cursor."), fields={"cursor": _("Invalid cursor.")}) from None
