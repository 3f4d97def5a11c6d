"""A project as read for one decision: one query, no ORM objects, changes kept aside.

Firing a step needs the project's row, its open deadlines, the hash of its last audit event,
whether it lists equipment and whether the acting agency is linked to its enterprise. One
SELECT reads them all. `ProjectState` answers attribute reads as the ORM `Project` does (same
names, same Python types), so rules, effects and deadlines take either; an attribute set on
it is a change to be written, not a write.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, exists, inspect, select

from ..database import Prepared, step_connection
from ..extensions import db
from ..models import (
    Deadline,
    EquipmentItem,
    OrgKind,
    OrgLink,
    Project,
    ProjectFacts,
    Status,
    WorkflowEvent,
)

# Attributes whose values are read back into a ProjectState (every mapped column).
COLUMNS = tuple(attr.key for attr in inspect(Project).column_attrs)
DEADLINE_COLUMNS = tuple(c.key for c in Deadline.__table__.columns)


@dataclass(slots=True)
class DeadlineRow:
    """A deadline as a decision reads and changes it: the columns of `Deadline`, as plain
    attributes (building ORM objects would cost a step more than its rules)."""

    role: str
    level: str
    trigger: str
    started_on: date
    sla_days: int | None
    used_days: int
    due_on: date | None
    met_at: datetime | None = None
    org_id: int | None = None
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    escalated_to: str | None = None
    jurisdiction_code: str | None = None
    province_code: str | None = None
    city_code: str | None = None
    batch_year: int | None = None
    holder_id: int | None = None
    held_since: datetime | None = None
    project_id: int | None = None
    id: int | None = None

    def locate(self, project) -> None:
        """Copy the project's place and batch year, which overdue counts read without a join
        (again when a change moves them)."""
        self.jurisdiction_code = project.jurisdiction_code
        self.province_code, self.city_code = project.province_code, project.city_code
        self.batch_year = project.batch_year


class ProjectState(ProjectFacts):
    """One project's values as read, plus the changes a decision makes to them.

    Columns are plain instance attributes, so reading one costs what reading any attribute
    costs; only setting one goes through `__setattr__`, which notes the change."""

    def __init__(self, values: dict, *, deadlines=(), has_equipment=False, last_hash=None,
                 links: dict[int, bool] | None = None, created: bool = False):
        own = self.__dict__
        own.update(values)
        own["_read"] = values  # as read: what the changes are measured against
        own["created"] = created  # a project this step creates: nothing was read
        own["staged"] = {}  # rows the decision adds that its own rules must see (by name)
        own["_changed"] = {}  # names, in the order set: the same step, the same statement
        own["deadlines"] = list(deadlines)  # DeadlineRow objects
        # What was read, so the writer knows which rows the decision removed or changed.
        own["loaded_deadlines"] = {d.id: {c: getattr(d, c) for c in DEADLINE_COLUMNS}
                                   for d in deadlines}
        own["has_equipment"] = has_equipment
        own["last_hash"] = last_hash
        own["_links"] = links or {}
        own["_equipment"] = None

    def __setattr__(self, name, value):
        if name == "equipment":
            object.__setattr__(self, name, value)  # the property below
            return
        if name not in self._read:
            raise AttributeError(f"a project has no column {name!r}")
        own = self.__dict__
        own[name] = value
        self._changed[name] = None
        if name == "jurisdiction_code":  # as the ORM validator keeps them beside it
            own["province_code"], own["city_code"] = value[:2] + "0000", value[:4] + "00"
            self._changed.update(province_code=None, city_code=None)

    # -- what the rules ask beyond columns ------------------------------------------------

    def new_deadline(self, **values) -> DeadlineRow:
        deadline = DeadlineRow(**values)
        deadline.locate(self)
        return deadline

    def linked_to(self, agency_id: int) -> bool:
        if agency_id in self._links:
            return self._links[agency_id]
        return super().linked_to(agency_id)

    @property
    def equipment(self):
        if self._equipment is None:
            raise AttributeError("a decision reads no equipment rows; ask has_equipment")
        return self._equipment

    @equipment.setter
    def equipment(self, items) -> None:
        """A change filing replaces the equipment list: the rows are rewritten with the step."""
        self.__dict__.update(_equipment=list(items), has_equipment=bool(items))

    # -- what the writer needs ------------------------------------------------------------

    def original(self, name: str):
        return self._read[name]

    @property
    def changes(self) -> dict:
        """The attributes the decision set (even to the value read: the same step then
        writes the same statement, prepared once)."""
        own = self.__dict__
        return {k: own[k] for k in self._changed}

    @property
    def new_equipment(self) -> list | None:
        return self._equipment

    @classmethod
    def new(cls, project_id: int, now: datetime) -> "ProjectState":
        """A project this step creates: a draft at version 0 (the step makes it 1), its
        columns at their defaults."""
        values = dict.fromkeys(COLUMNS)
        for attr in inspect(Project).column_attrs:
            default = attr.columns[0].default
            if default is not None:
                values[attr.key] = default.arg(None) if default.is_callable else default.arg
        values.update(id=project_id, public_id=uuid.uuid4(), version=0, status=Status.DRAFT,
                      created_at=now, updated_at=now, status_changed_at=now)
        return cls(values, created=True)

    def values(self, *, before: bool) -> dict | None:
        """The column values before the decision (None for a project it creates), or after."""
        if before:
            return None if self.created else self._read
        own = self.__dict__
        return {**self._read, **{k: own[k] for k in self._changed}}

    def applied(self, **committed) -> None:
        """After the write: what was changed (and `committed`, e.g. the version) is now the
        project's stored state."""
        own = self.__dict__
        own.update(committed)
        self._read.update({k: own[k] for k in self._changed}, **committed)
        self._changed.clear()
        own["loaded_deadlines"] = {}
        own["created"] = False


def state_columns(agency_id) -> list:
    """A project's columns, the hash of its last event, whether it lists equipment and whether
    the agency `agency_id` (an SQL expression) is linked to its enterprise; then its deadlines'."""
    p, d, e = Project.__table__, Deadline.__table__, WorkflowEvent.__table__
    last_hash = (select(e.c.hash).where(e.c.project_id == p.c.id, e.c.seq == p.c.version)
                 .scalar_subquery())
    has_equipment = exists().where(EquipmentItem.__table__.c.project_id == p.c.id)
    linked = exists().where(OrgLink.__table__.c.agency_id == agency_id,
                            OrgLink.__table__.c.enterprise_id == p.c.enterprise_id)
    return [*[inspect(Project).column_attrs[k].columns[0].label(k) for k in COLUMNS],
            last_hash.label("last_hash"), has_equipment.label("has_equipment"),
            linked.label("linked"), *[c.label(f"deadline_{c.key}") for c in d.columns]]


def _read_statement():
    p, d = Project.__table__, Deadline.__table__
    return (select(*state_columns(bindparam("agency_id")))
            .select_from(p.outerjoin(d, d.c.project_id == p.c.id))
            .where(p.c.id == bindparam("key"))
            .order_by(d.c.id))


_READ = Prepared(_read_statement)


def state_of(rows: list[dict], agency_id: int | None) -> ProjectState | None:
    if not rows or rows[0]["id"] is None:
        return None
    first = rows[0]
    seen = {}
    for row in rows:
        if row["deadline_id"] is not None and row["deadline_id"] not in seen:
            seen[row["deadline_id"]] = DeadlineRow(**{c: row[f"deadline_{c}"]
                                                      for c in DEADLINE_COLUMNS})
    return ProjectState({k: first[k] for k in COLUMNS}, deadlines=list(seen.values()),
                        has_equipment=bool(first["has_equipment"]),
                        last_hash=first["last_hash"],
                        links={agency_id: bool(first["linked"])} if agency_id else None)


def read_state(project_id: int, actor=None) -> ProjectState | None:
    """The project with this row id as one decision needs it; None if there is none.

    With the `actor`, when it is an agency, comes whether it is linked to the enterprise
    (a conflict of interest), in the same query."""
    agency_id = agency_id_of(actor) if actor is not None else None
    rows = _READ.rows(step_connection(), {"key": project_id, "agency_id": agency_id or 0})
    return state_of(rows, agency_id)


def agency_id_of(actor) -> int | None:
    org = actor.organization
    return org.id if org.kind == OrgKind.AGENCY else None


def read_states(keys, actor=None) -> dict:
    """The projects with these public ids as the decisions of a bulk step need them, read in
    one query (one snapshot for all): {public id: ProjectState}; an unknown id is absent.

    The same columns as `read_state`, so each decision sees what a single step would."""
    if not keys:
        return {}
    agency_id = agency_id_of(actor) if actor is not None else None
    p, d = Project.__table__, Deadline.__table__
    statement = (select(*state_columns(bindparam("agency_id", agency_id or 0)))
                 .select_from(p.outerjoin(d, d.c.project_id == p.c.id))
                 .where(p.c.public_id.in_(list(keys)))
                 .order_by(p.c.id, d.c.id))
    by_project: dict = {}
    for row in db.session.execute(statement).mappings():
        by_project.setdefault(row["public_id"], []).append(row)
    return {key: state_of(rows, agency_id) for key, rows in by_project.items()}
