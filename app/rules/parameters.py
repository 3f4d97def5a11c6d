"""Policy parameters versioned by effective date, read from workflows/parameters/*.toml.

`parameter("relending_rate", on=date(2025, 6, 1))` gives the value in force that day; a
value scoped to a jurisdiction beats a broader one for places inside it.
"""

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from flask import current_app

from ..models import ancestor_codes


@dataclass(frozen=True)
class Entry:
    effective: date
    value: Decimal
    jurisdiction: str
    source: str


class ParameterMissing(LookupError):
    pass


@cache
def _load(directory: Path) -> dict[str, tuple[Entry, ...]]:
    table: dict[str, list[Entry]] = {}
    for path in sorted(directory.glob("*.toml")):
        for name, entries in tomllib.loads(path.read_text(encoding="utf-8")).items():
            for raw in entries:
                table.setdefault(name, []).append(Entry(
                    effective=raw["effective"], value=Decimal(str(raw["value"])),
                    jurisdiction=str(raw.get("jurisdiction", "000000")),
                    source=raw.get("source", "")))
    return {name: tuple(sorted(e, key=lambda x: x.effective)) for name, e in table.items()}


def parameters_dir() -> Path:
    return Path(current_app.config["WORKFLOWS_DIR"]) / "parameters"


def entry(name: str, on: date, jurisdiction: str = "000000") -> Entry:
    """The entry of `name` in force on `on` for `jurisdiction` (most specific scope first)."""
    entries = _load(parameters_dir()).get(name, ())
    for scope in ancestor_codes(jurisdiction):
        in_force = [e for e in entries if e.jurisdiction == scope and e.effective <= on]
        if in_force:
            return in_force[-1]
    raise ParameterMissing(f"no value of '{name}' in force on {on} for {jurisdiction}")


def parameter(name: str, on: date, jurisdiction: str = "000000") -> Decimal:
    return entry(name, on, jurisdiction).value
