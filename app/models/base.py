"""Declarative base, shared column types and time helpers."""

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic migrations can address them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


WAN = Decimal(10000)
YUAN_QUANTUM = Decimal("0.0001")


class WanYuan(TypeDecorator):
    """Money in 万元 on the Python side, stored as whole yuan in a BIGINT column.

    The documents count money in 万元 with up to four decimals, which is exactly one yuan.
    Integers keep sums exact on SQLite (whose NUMERIC is a float) as well as PostgreSQL,
    and columns holding it are named `*_yuan` so raw SQL readers see the unit.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return yuan_from_wan(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return wan_from_yuan(value)


class Fraction(TypeDecorator):
    """A rate or share (a Decimal fraction: 0.0175 is 1.75%) stored as whole parts per
    million in a BIGINT column named `*_ppm`, exact on both backends."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return int((Decimal(value) * PPM).to_integral_value(rounding=ROUND_HALF_UP))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(int(value)) / PPM).normalize() + Decimal(0)


PPM = Decimal(1_000_000)


def yuan_from_wan(value) -> int:
    return int((Decimal(value) * WAN).to_integral_value(rounding=ROUND_HALF_UP))


def wan_from_yuan(value) -> Decimal:
    return (Decimal(int(value or 0)) / WAN).quantize(YUAN_QUANTUM).normalize() + Decimal(0)


def utcnow() -> datetime:
    """Naive UTC timestamp with microseconds: identical on SQLite and PostgreSQL round trips,
    which the audit hash chain depends on."""
    return datetime.now(UTC).replace(tzinfo=None)


CHINA = ZoneInfo("Asia/Shanghai")
UTC_ZONE = UTC


def china_today() -> date:
    """The calendar date in China: what deadlines and "today" mean to users and rules."""
    return datetime.now(CHINA).date()


def china_date(moment: datetime) -> date:
    """The date in China of a moment stored as naive UTC."""
    return moment.replace(tzinfo=UTC).astimezone(CHINA).date()
