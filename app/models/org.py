"""Jurisdictions, organisations (enterprise, bank, agency), users and API tokens."""

import enum
import uuid
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from .base import Base, utcnow


def _enum(cls, name):
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=32,
                values_callable=lambda e: [m.value for m in e], validate_strings=True)


class Level(enum.StrEnum):
    NATIONAL = "national"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


# How many leading digits of a GB/T 2260 code a jurisdiction of each level fixes.
LEVEL_PREFIX = {Level.NATIONAL: 0, Level.PROVINCE: 2, Level.CITY: 4, Level.COUNTY: 6}
NATIONAL_CODE = "000000"


def ancestor_codes(code: str) -> list[str]:
    """Codes of the jurisdictions containing `code`, itself first, national last."""
    chain = [code]
    for digits in (4, 2):
        parent = code[:digits].ljust(6, "0")
        if parent != chain[-1]:
            chain.append(parent)
    if chain[-1] != NATIONAL_CODE:
        chain.append(NATIONAL_CODE)
    return chain


class PlaceFacts:
    """What a place tells from its `code`, `level` and `name`: shared by the mapped
    Jurisdiction and the plain places of an API caller (accounts/principals.py)."""

    def names_session(self):
        """The session that reads place names."""
        raise NotImplementedError

    @property
    def prefix(self) -> str:
        return self.code[: LEVEL_PREFIX[self.level]]

    def contains(self, code: str) -> bool:
        """Whether the place with `code` is this one or lies below it."""
        return code.startswith(self.prefix)

    @property
    def full_name(self) -> str:
        """Province, city and county names joined (“江苏省苏州市吴中区”)."""
        names = _place_names(self.names_session(), self.code)
        return "".join(names.get(code, "") for code in reversed(ancestor_codes(self.code))
                       if code != NATIONAL_CODE) or self.name


class Jurisdiction(Base, PlaceFacts):
    __tablename__ = "jurisdictions"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[Level] = mapped_column(_enum(Level, "jurisdiction_level"))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdictions.code"))

    parent: Mapped["Jurisdiction | None"] = relationship(remote_side=[code])

    def names_session(self):
        return object_session(self)


_PLACE_NAMES: dict[str, str] = {}
_PLACE_LEVELS: dict[str, Level] = {}


def _read_places(session, code: str) -> None:
    """Every jurisdiction's name and level, read once per process: GB/T 2260 reference data,
    where a renamed or regraded place gets a new code, so what was read once stays right.
    Read again when a code is new to the cache (a region loaded since)."""
    if code not in _PLACE_LEVELS and session is not None:
        rows = session.execute(select(Jurisdiction.code, Jurisdiction.name, Jurisdiction.level))
        for place, name, level in rows:
            _PLACE_NAMES[place], _PLACE_LEVELS[place] = name, level


def _place_names(session, code: str) -> dict[str, str]:
    _read_places(session, code)
    return _PLACE_NAMES


def place_name(session, code: str) -> str:
    """The name of the jurisdiction `code` (the code itself if there is none)."""
    return _place_names(session, code).get(code, code)


def place_level(session, code: str) -> Level | None:
    """The level of the jurisdiction `code` (None if there is none)."""
    _read_places(session, code)
    return _PLACE_LEVELS.get(code)


class OrgKind(enum.StrEnum):
    ENTERPRISE = "enterprise"
    BANK = "bank"
    AGENCY = "agency"
    OPERATOR = "operator"  # runs the system; its users administer it


class AgencyKind(enum.StrEnum):
    MIIT = "miit"  # 工业和信息化主管部门
    NDRC = "ndrc"  # 发展改革委
    APPROVAL = "approval"  # 行政审批服务局
    LAND = "land"  # 自然资源
    ENV = "env"  # 生态环境
    PBOC = "pboc"  # 人民银行分行
    FINANCE = "finance"  # 金融监管 / 金融服务中心
    TREASURY = "treasury"  # 财政
    ENERGY = "energy"  # 能源局 (节能审查 where a document names it)


bank_service_areas = Table(
    "bank_service_areas",
    Base.metadata,
    Column("bank_id", ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("jurisdiction_code", ForeignKey("jurisdictions.code"), primary_key=True),
)


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("(kind = 'agency') = (agency_kind IS NOT NULL)", name="agency_has_kind"),
        CheckConstraint("kind <> 'enterprise' OR credit_code IS NOT NULL", name="enterprise_has_credit_code"),
        # The agencies of one kind in some places: who is told that a step waits for them
        # (enterprises far outnumber agencies in every place).
        Index("ix_organizations_agencies", "agency_kind", "jurisdiction_code",
              postgresql_where=text("kind = 'agency'"), sqlite_where=text("kind = 'agency'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    kind: Mapped[OrgKind] = mapped_column(_enum(OrgKind, "org_kind"))
    agency_kind: Mapped[AgencyKind | None] = mapped_column(_enum(AgencyKind, "agency_kind"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"), index=True)
    # Its users sign in with a second factor (an authenticator app's code) as well.
    require_two_factor: Mapped[bool] = mapped_column(Boolean, default=False,
                                                     server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    jurisdiction: Mapped[Jurisdiction] = relationship(lazy="joined")
    service_areas: Mapped[list[Jurisdiction]] = relationship(secondary=bank_service_areas)

    @property
    def role(self) -> str:
        return f"agency:{self.agency_kind}" if self.kind == OrgKind.AGENCY else str(self.kind)

    def serves(self, code: str) -> bool:
        """For a bank: whether `code` lies in a jurisdiction it serves."""
        return any(area.contains(code) for area in self.service_areas)


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # A head of section (科长) reassigns the steps of their organisation's officers.
    is_head: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Every signed-in session carries the epoch it began in; moving it on ends them all.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # A TOTP authenticator (base32 secret) once enrolled, the last time step it accepted
    # (a code is good once), and the SHA-256 digests of the unused recovery codes.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    recovery_codes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    organization: Mapped[Organization] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return str(self.public_id)

    @property
    def role(self) -> str:
        """`enterprise`, `bank`, `agency:<kind>` or `operator`, from the organisation."""
        return self.organization.role

    @property
    def jurisdiction(self) -> Jurisdiction:
        return self.organization.jurisdiction


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Only a SHA-256 of the token is kept; the token itself is shown once, at creation.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(lazy="joined")


class OrgLink(Base):
    """An agency registered as linked to an enterprise (supervising department, shareholder):
    it may still see the enterprise's projects, but never decide on them."""

    __tablename__ = "org_links"

    agency_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                                           primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Delegation(Base):
    """An officer's cover (职务代理): from `starts_on` to `ends_on` (China dates, both
    included) the deputy, of the same organisation, takes the officer's steps for them."""

    __tablename__ = "delegations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)  # ended early by hand

    officer: Mapped[User] = relationship(foreign_keys=[officer_id], lazy="joined")
    deputy: Mapped[User] = relationship(foreign_keys=[deputy_id], lazy="joined")
