"""The caller of an API request, read with one query from its bearer token.

A `Principal` answers what access rules and the engine ask of a user — its id and names,
its organisation's kind, role and jurisdiction, the areas a bank serves — with the same
attribute names as the ORM `User`, so `access` and the rules take either. It holds no ORM
objects: a step fired through the API reads its caller, the project and writes the change
without the ORM's identity map and unit of work.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, select

from ..database import Prepared, step_connection
from ..extensions import db
from ..models import (
    AgencyKind,
    ApiToken,
    Deadline,
    Level,
    Organization,
    OrgKind,
    Project,
    User,
    bank_service_areas,
    utcnow,
)
from ..models.org import PlaceFacts, place_level, place_name
from ..workflow.state import ProjectState, agency_id_of, state_columns, state_of


@dataclass(frozen=True)
class Place(PlaceFacts):
    code: str
    level: Level
    name: str

    def names_session(self):
        return db.session


@dataclass(frozen=True)
class OrgView:
    id: int
    public_id: uuid.UUID
    kind: OrgKind
    agency_kind: AgencyKind | None
    name: str
    credit_code: str | None
    jurisdiction: Place
    service_areas: tuple[Place, ...] = ()

    @property
    def jurisdiction_code(self) -> str:
        return self.jurisdiction.code

    @property
    def role(self) -> str:
        return f"agency:{self.agency_kind}" if self.kind == OrgKind.AGENCY else str(self.kind)

    def serves(self, code: str) -> bool:
        return any(area.contains(code) for area in self.service_areas)


@dataclass(frozen=True)
class Principal:
    id: int
    public_id: uuid.UUID
    username: str
    display_name: str
    email: str | None
    is_admin: bool
    organization: OrgView
    active: bool = True
    token_id: int | None = None  # the API token it came with, and when that was last used
    token_used_at: datetime | None = None

    @property
    def organization_id(self) -> int:
        return self.organization.id

    @property
    def role(self) -> str:
        return self.organization.role

    @property
    def jurisdiction(self) -> Place:
        return self.organization.jurisdiction


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def caller_query(digest) -> Select:
    """The active user holding the token with this digest — unrevoked, not expired at the
    parameter `now` — with its organisation and — for a bank — one row per area it serves.
    (Places come from the per-process cache of the reference data, not from a join.)"""
    tokens, users, orgs = ApiToken.__table__, User.__table__, Organization.__table__
    areas = bank_service_areas
    return (select(users.c.id.label("user_id"), users.c.public_id.label("user_public_id"),
                   users.c.username, users.c.display_name, users.c.email, users.c.is_admin,
                   users.c.organization_id, tokens.c.id.label("token_id"),
                   tokens.c.last_used_at.label("token_used_at"), orgs.c.public_id.label("org_public_id"),
                   orgs.c.kind.label("org_kind"), orgs.c.agency_kind,
                   orgs.c.name.label("org_name"), orgs.c.credit_code,
                   orgs.c.jurisdiction_code.label("org_place"),
                   areas.c.jurisdiction_code.label("area_code"))
            .select_from(tokens.join(users, users.c.id == tokens.c.user_id)
                         .join(orgs, orgs.c.id == users.c.organization_id)
                         .outerjoin(areas, areas.c.bank_id == orgs.c.id))
            .where(tokens.c.token_hash == digest, tokens.c.revoked_at.is_(None),
                   tokens.c.expires_at > bindparam("now", type_=tokens.c.expires_at.type),
                   users.c.active)
            .order_by(areas.c.jurisdiction_code))


def place(code: str) -> Place:
    level = place_level(db.session, code)
    return Place(code, level, place_name(db.session, code))


def principal_of(rows: list[dict]) -> Principal | None:
    """The caller from the rows of a query built on `caller_query`."""
    if not rows:
        return None
    r = rows[0]
    areas = {row["area_code"]: place(row["area_code"]) for row in rows
             if row["area_code"] is not None}
    org = OrgView(id=r["organization_id"], public_id=r["org_public_id"], kind=r["org_kind"],
                  agency_kind=r["agency_kind"], name=r["org_name"], credit_code=r["credit_code"],
                  jurisdiction=place(r["org_place"]), service_areas=tuple(areas.values()))
    return Principal(id=r["user_id"], public_id=r["user_public_id"], username=r["username"],
                     display_name=r["display_name"], email=r["email"], is_admin=r["is_admin"],
                     organization=org, token_id=r["token_id"], token_used_at=r["token_used_at"])


BY_TOKEN = Prepared(lambda: caller_query(bindparam("digest")))


def principal_for_token(token: str) -> Principal | None:
    """The active user holding this (unrevoked) API token, or None."""
    return principal_of(BY_TOKEN.rows(db.session.connection(),
                                      {"digest": token_digest(token), "now": utcnow()}))


def _caller_and_state_statement():
    """The caller of a token and a project, in one query (a step through the API)."""
    p, d = Project.__table__, Deadline.__table__
    caller = caller_query(bindparam("digest"))
    joined = (caller.get_final_froms()[0]
              .outerjoin(p, p.c.public_id == bindparam("key", type_=p.c.public_id.type))
              .outerjoin(d, d.c.project_id == p.c.id))
    return (caller.add_columns(*state_columns(Organization.__table__.c.id))
            .select_from(joined).order_by(d.c.due_on, d.c.id))


_CALLER_AND_STATE = Prepared(_caller_and_state_statement)


def read_caller_and_state(token: str, public_id) -> tuple[Principal | None, ProjectState | None]:
    """The caller holding `token` and the project with `public_id`, read with one query."""
    rows = _CALLER_AND_STATE.rows(step_connection(),
                                  {"digest": token_digest(token), "key": public_id,
                                   "now": utcnow()})
    caller = principal_of(rows)
    if caller is None:
        return None, None
    return caller, state_of(rows, agency_id_of(caller))
