"""The places a user may filter by, as a tree of names: an agency's jurisdiction and what
lies below it, a bank's service areas, an enterprise's own county, everything for the
operator. A place is given by its code or by its name (吴中区, 江苏省苏州市吴中区)."""

from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import Jurisdiction, OrgKind, User
from ..models.org import Level

DEPTH = {Level.NATIONAL: 0, Level.PROVINCE: 1, Level.CITY: 2, Level.COUNTY: 3}


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    full_name: str
    depth: int  # below the top of the user's tree, for the indentation of the picker


def regions(user: User) -> list[Region]:
    """The user's places, each followed by the places below it (a tree, in code order)."""
    places = list(db.session.scalars(select(Jurisdiction).order_by(Jurisdiction.code)))
    children: dict[str | None, list[Jurisdiction]] = {}
    for place in places:
        children.setdefault(place.parent_code, []).append(place)
    found: list[Region] = []

    def walk(place: Jurisdiction, depth: int) -> None:
        found.append(Region(place.code, place.name, place.full_name, depth))
        for child in children.get(place.code, []):
            walk(child, depth + 1)

    for top in _tops(user, places):
        walk(top, 0)
    return found


def _tops(user: User, places: list[Jurisdiction]) -> list[Jurisdiction]:
    org = user.organization
    by_code = {p.code: p for p in places}
    if user.is_admin or org.kind == OrgKind.OPERATOR:
        return [p for p in places if p.parent_code is None]
    bank = org.kind == OrgKind.BANK
    codes = [area.code for area in org.service_areas] if bank else [org.jurisdiction_code]
    return [by_code[c] for c in codes if c in by_code]


def find_place(user: User, given: str | None) -> Jurisdiction | None:
    """The place meant by `given`: a code, or a name or full name — the user's own places
    first (吴中区 is the one in their tree), then any place of that name if only one has it."""
    given = (given or "").strip()
    if not given:
        return None
    if given.isdigit():
        return db.session.get(Jurisdiction, given)
    for candidates in (regions(user), None):
        if candidates is None:
            candidates = [Region(p.code, p.name, p.full_name, 0) for p in
                          db.session.scalars(select(Jurisdiction).where(
                              Jurisdiction.name == given))]
        matches = {r.code for r in candidates if given in (r.name, r.full_name)}
        if len(matches) == 1:
            return db.session.get(Jurisdiction, matches.pop())
    return None
