"""Numbers an agency sets for its own jurisdiction: local settings.

The documents set no time limits, no batch cut-off dates and no reading of "以设备更新为主" as
a share; these are the agencies' own. A definition (or the parameter file) holds the default
with basis `local` and the agency role that owns it; an agency of that role sets its own
value for its jurisdiction, kept as a row with who set it and when, in force from the day it
names. For a place the most specific jurisdiction's value in force wins, else the default.

Steps read these on every decision, so the rows (a few per jurisdiction) are kept in memory
per application and read again after LOCAL_SETTINGS_SECONDS, or at once in the process
that changed them.
"""

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import LocalSetting, ancestor_codes

_KEY = "jigai.local_settings"
BASES = ("document", "practice", "local")


@dataclass(frozen=True)
class Basis:
    """Where a number comes from: a document's clause and its words (which contain the
    number), a public practice source (DOMAIN.md), or a setting the owning agency makes."""

    kind: str  # document | practice | local
    clause: str | None = None  # document: the clause id
    quote: str | None = None  # document: its words, verbatim
    document: str | None = None  # document: the definition key, where not implied
    source: str | None = None  # practice: the public source
    owner: str | None = None  # local: the agency role that sets it


class BasisError(ValueError):
    pass


def parse_basis(item: dict, roles) -> Basis:
    """`basis = "document"` with `clause` and `quote`; `"practice"` with `source`; `"local"`
    with `owner` (the agency role that sets it). BasisError says what is missing."""
    kind = item.get("basis")
    if kind not in BASES:
        raise BasisError(f"a number needs basis = document, practice or local (found {kind!r})")
    if kind == "document" and not (item.get("clause") and item.get("quote")):
        raise BasisError("a document basis needs the clause and its words (quote)")
    if kind == "practice" and not item.get("source"):
        raise BasisError("a practice basis names its public source")
    if kind == "local" and item.get("owner") not in roles:
        raise BasisError("a local setting names the agency role that owns it (owner)")
    return Basis(kind, clause=item.get("clause"), quote=item.get("quote"),
                 document=item.get("document"), source=item.get("source"),
                 owner=item.get("owner"))


@dataclass(frozen=True)
class LocalValue:
    """A value an agency set: what, for where, from when, by whom."""

    value: str
    jurisdiction_code: str
    effective_on: date
    set_by: str  # the organisation's name
    set_at: datetime


def _rows() -> dict[str, list[LocalSetting]]:
    """The settings rows by key, newest first (cached per application)."""
    cached = current_app.extensions.get(_KEY)
    ttl = current_app.config.get("LOCAL_SETTINGS_SECONDS", 30)
    if cached is None or time.monotonic() - cached[0] > ttl:
        by_key: dict[str, list] = {}
        for row in db.session.scalars(select(LocalSetting).order_by(
                LocalSetting.effective_on.desc(), LocalSetting.id.desc())):
            by_key.setdefault(row.key, []).append(LocalValue(
                row.value, row.jurisdiction_code, row.effective_on, row.set_by_org_name,
                row.set_at))
        cached = current_app.extensions[_KEY] = (time.monotonic(), by_key)
    return cached[1]


def forget() -> None:
    """After a change: read the rows again on next use."""
    current_app.extensions.pop(_KEY, None)


def local_value(key: str, jurisdiction_code: str, on: date) -> LocalValue | None:
    """The value set for `key` by the most specific jurisdiction containing the place, in
    force on `on`; None where no agency has set one (the default applies)."""
    rows = _rows().get(key)
    if not rows:
        return None
    for code in ancestor_codes(jurisdiction_code):
        for row in rows:
            if row.jurisdiction_code == code and row.effective_on <= on:
                return row
    return None


@dataclass(frozen=True)
class Figure:
    """A number as it applies somewhere: its value, its basis, and for a local setting the
    row that set it (None: the default stands)."""

    value: Any
    basis: Basis
    set: LocalValue | None = None


def resolve(key: str, default, basis: Basis, jurisdiction_code: str, on: date,
            parse=lambda text: text) -> Figure:
    """The figure for a place: a local setting's own value where an agency set one."""
    if basis.kind == "local":
        found = local_value(key, jurisdiction_code, on)
        if found is not None:
            return Figure(parse(found.value), basis, found)
    return Figure(default, basis)
