"""Policy parameters versioned by effective date, read from workflows/parameters/*.toml.

`parameter("relending_rate", on=date(2025, 6, 1))` gives the value in force that day; a
value scoped to a jurisdiction beats a broader one for places inside it. Every entry carries
its basis (rules/settings.py): a document's clause and words, a practice source, or `local`
— a default the owning agency replaces with its own setting for its jurisdiction.
"""

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from flask import current_app

from ..models import AgencyKind, ancestor_codes
from .settings import Basis, BasisError, Figure, parse_basis, resolve

ROLES = frozenset(f"agency:{kind}" for kind in AgencyKind)
FIELDS = frozenset({"effective", "value", "jurisdiction", "label", "basis", "clause", "quote",
                    "document", "source", "owner"})


@dataclass(frozen=True)
class Entry:
    name: str
    effective: date
    value: Decimal
    jurisdiction: str
    label: str
    basis: Basis

    @property
    def source(self) -> str:
        """Where the value comes from, in a word (the practice source, the document clause)."""
        return self.basis.source or self.basis.clause or ""


class ParameterMissing(LookupError):
    pass


class ParameterError(ValueError):
    """A parameter file that cannot be used; the message names the file and entry."""


@cache
def _load(directory: Path) -> dict[str, tuple[Entry, ...]]:
    table: dict[str, list[Entry]] = {}
    for path in sorted(directory.glob("*.toml")):
        for name, entries in tomllib.loads(path.read_text(encoding="utf-8")).items():
            for index, raw in enumerate(entries, start=1):
                where = f"{path.name}: {name} entry {index}"
                unknown = set(raw) - FIELDS
                if unknown:
                    raise ParameterError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
                try:
                    basis = parse_basis(raw, ROLES)
                except BasisError as err:
                    raise ParameterError(f"{where}: {err}") from None
                table.setdefault(name, []).append(Entry(
                    name=name, effective=raw["effective"], value=Decimal(str(raw["value"])),
                    jurisdiction=str(raw.get("jurisdiction", "000000")),
                    label=raw.get("label", name), basis=basis))
    return {name: tuple(sorted(e, key=lambda x: x.effective)) for name, e in table.items()}


def parameters_dir() -> Path:
    return Path(current_app.config["WORKFLOWS_DIR"]) / "parameters"


def all_entries() -> dict[str, tuple[Entry, ...]]:
    return _load(parameters_dir())


def entry(name: str, on: date, jurisdiction: str = "000000") -> Entry:
    """The entry of `name` in force on `on` for `jurisdiction` (most specific scope first)."""
    entries = all_entries().get(name, ())
    for scope in ancestor_codes(jurisdiction):
        in_force = [e for e in entries if e.jurisdiction == scope and e.effective <= on]
        if in_force:
            return in_force[-1]
    raise ParameterMissing(f"no value of '{name}' in force on {on} for {jurisdiction}")


def figure(name: str, on: date, jurisdiction: str = "000000") -> Figure:
    """The value of `name` for a place on a day, with its basis — an agency's own setting
    where the entry's basis is local and one was set."""
    found = entry(name, on, jurisdiction)
    return resolve(name, found.value, found.basis, jurisdiction, on, Decimal)


def parameter(name: str, on: date, jurisdiction: str = "000000") -> Decimal:
    return figure(name, on, jurisdiction).value


def in_force(on: date, jurisdiction: str = "000000") -> list[Entry]:
    """The entry of every parameter in force on `on` for `jurisdiction`, by name."""
    found = []
    for name in sorted(all_entries()):
        try:
            found.append(entry(name, on, jurisdiction))
        except ParameterMissing:
            continue
    return found
