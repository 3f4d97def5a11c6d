"""Workflow definitions: policy documents as data (`workflows/*.toml`).

A definition names, for each step of the shared trigger vocabulary, who may fire it, from
which states, under which guards, with which required inputs, citing which clause of its
document, within how many working days. This module reads and validates them; the engine
turns each into a `transitions` machine.
"""

import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

from ..models import AgencyKind, Level, Status
from ..rules import BRANCHES, GUARDS
from .vocabulary import TRIGGERS


class DefinitionError(ValueError):
    """A definition file that cannot be run; the message names the file and the problem."""


TOP_LEVEL = frozenset({"key", "version", "title", "document", "source", "jurisdiction",
                       "effective", "expires", "issuers", "notes", "target", "states",
                       "transitions"})
ROLES = frozenset({"enterprise", "bank", "lead_bank"} | {f"agency:{k}" for k in AgencyKind})


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str
    sources: tuple[str, ...]
    dest: str | None  # None: an action inside the current stage
    role: str
    clause: str
    sla_days: int | None = None
    levels: tuple[Level, ...] = ()  # the acting agency's levels, where the document fixes them
    when: str | None = None  # branch predicate choosing between alternatives
    guards: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    # maker-checker: whoever fired one of these on the project may not fire this step
    distinct_from: tuple[str, ...] = ()

    @cached_property
    def level_key(self) -> str:
        """The levels as one word ("" for any), e.g. for grouping deadlines."""
        return "/".join(level.value for level in self.levels)

    @cached_property
    def agency_kind(self) -> str | None:
        return self.role.split(":", 1)[1] if self.role.startswith("agency:") else None


@dataclass(frozen=True)
class Definition:
    key: str
    version: int
    title: str
    document: str
    source: str
    jurisdiction: str
    effective: date
    expires: date | None
    states: tuple[str, ...]
    transitions: tuple[TransitionSpec, ...]
    text: str  # the TOML source, kept for snapshots of frozen versions
    issuers: tuple[str, ...] = ()
    notes: str = ""
    target: MappingProxyType | None = None  # the document's growth target, for reports
    path: Path | None = None
    _from: dict = field(default_factory=dict, compare=False, repr=False)

    def transitions_from(self, status: str) -> tuple[TransitionSpec, ...]:
        """The transitions leaving `status`, in the definition's order (looked up once)."""
        found = self._from.get(status)
        if found is None:
            found = self._from[status] = tuple(t for t in self.transitions
                                               if status in t.sources)
        return found

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def in_force(self, on: date) -> bool:
        return self.effective <= on and (self.expires is None or on <= self.expires)

    def transitions_for(self, trigger: str) -> list[TransitionSpec]:
        return [t for t in self.transitions if t.trigger == trigger]

    @property
    def roles(self) -> list[str]:
        return sorted({t.role for t in self.transitions})


def _fail(path: Path, message: str):
    raise DefinitionError(f"{path.name}: {message}")


def parse_definition(path: Path) -> Definition:
    """Read one TOML definition and check it against the vocabulary, roles, guards and states."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        _fail(path, f"cannot be read: {err}")
    return parse_text(text, path)


def parse_text(text: str, path: Path) -> Definition:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        _fail(path, f"cannot be read: {err}")

    for name in ("key", "version", "title", "document", "jurisdiction", "effective", "states"):
        if name not in raw:
            _fail(path, f"missing top-level field '{name}'")
    unknown = set(raw) - TOP_LEVEL
    if unknown:
        _fail(path, f"unknown top-level field(s) {', '.join(sorted(unknown))}")
    states = tuple(raw["states"])
    known_states = {s.value for s in Status}
    for state in states:
        if state not in known_states:
            _fail(path, f"unknown state '{state}' (known: {', '.join(sorted(known_states))})")
    if Status.DRAFT not in states:
        _fail(path, "states must include 'draft', where every project starts")

    specs = []
    for index, item in enumerate(raw.get("transitions", []), start=1):
        where = f"transition {index} ('{item.get('trigger', '?')}')"
        spec = _parse_transition(path, where, item, states)
        specs.append(spec)
    if not specs:
        _fail(path, "defines no transitions")

    definition = Definition(
        key=raw["key"],
        version=int(raw["version"]),
        title=raw["title"],
        document=raw["document"],
        source=raw.get("source", ""),
        jurisdiction=str(raw["jurisdiction"]),
        effective=raw["effective"],
        expires=raw.get("expires"),
        states=states,
        transitions=tuple(specs),
        text=text,
        issuers=tuple(raw.get("issuers", ())),
        notes=raw.get("notes", ""),
        target=_parse_target(path, raw.get("target")),
        path=path,
    )
    _check_reachability(path, definition)
    _check_change_filing_route(path, definition)
    return definition


def _check_change_filing_route(path: Path, definition: Definition) -> None:
    """A change filing goes to the agency that registered the filing."""
    filing = {t.role for t in definition.transitions_for("file")}
    for trigger in ("approve_change", "refuse_change"):
        for spec in definition.transitions_for(trigger):
            if spec.role not in filing:
                _fail(path, f"'{trigger}' is routed to '{spec.role}', but filings are registered "
                            f"by {', '.join(sorted(filing)) or 'nobody'}")


def _parse_target(path: Path, raw: dict | None) -> MappingProxyType | None:
    """`[target] year, baseline_year, growth, clause`: e.g. equipment investment in 2027 at
    least 25% above 2023."""
    if raw is None:
        return None
    try:
        target = {"year": int(raw["year"]), "baseline_year": int(raw["baseline_year"]),
                  "growth": Decimal(str(raw["growth"])), "clause": str(raw["clause"])}
    except (KeyError, ValueError, ArithmeticError) as err:
        _fail(path, f"target needs year, baseline_year, growth and clause ({err})")
    return MappingProxyType(target)


def _parse_transition(path, where, item, states) -> TransitionSpec:
    unknown = set(item) - {"trigger", "source", "dest", "role", "clause", "sla_days", "level",
                           "when", "guards", "requires", "distinct_from"}
    if unknown:
        _fail(path, f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for name in ("trigger", "source", "role", "clause"):
        if not item.get(name):
            _fail(path, f"{where}: missing '{name}'")
    trigger = item["trigger"]
    if trigger not in TRIGGERS:
        _fail(path, f"{where}: unknown trigger '{trigger}'")
    sources = tuple([item["source"]] if isinstance(item["source"], str) else item["source"])
    dest = item.get("dest")
    for state in (*sources, *([dest] if dest else [])):
        if state not in states:
            _fail(path, f"{where}: unknown state '{state}'")
    role = item["role"]
    if role not in ROLES:
        _fail(path, f"{where}: unknown role '{role}' (known: {', '.join(sorted(ROLES))})")
    expected = TRIGGERS[trigger].actor
    if not _role_fits(role, expected):
        _fail(path, f"{where}: trigger '{trigger}' is fired by {expected}, not '{role}'")
    for guard in item.get("guards", []):
        if guard not in GUARDS:
            _fail(path, f"{where}: unknown guard '{guard}'")
    when = item.get("when")
    if when is not None and when not in BRANCHES:
        _fail(path, f"{where}: unknown branch condition '{when}'")
    for key in item.get("requires", []):
        if key not in TRIGGERS[trigger].inputs:
            allowed = ", ".join(TRIGGERS[trigger].inputs) or "none"
            _fail(path, f"{where}: '{trigger}' takes no input '{key}' (takes: {allowed})")
    raw_levels = item.get("level", [])
    levels = [raw_levels] if isinstance(raw_levels, str) else list(raw_levels)
    for level in levels:
        if level not in {lv.value for lv in Level}:
            _fail(path, f"{where}: unknown level '{level}'")
    if levels and not role.startswith("agency:"):
        _fail(path, f"{where}: only agency steps can be fixed to a level")
    for other in item.get("distinct_from", []):
        if other not in TRIGGERS:
            _fail(path, f"{where}: distinct_from names unknown trigger '{other}'")
    sla = item.get("sla_days")
    if sla is not None and (not isinstance(sla, int) or sla <= 0):
        _fail(path, f"{where}: sla_days must be a positive whole number of working days")
    return TransitionSpec(
        trigger=trigger, sources=sources, dest=dest, role=role, clause=item["clause"],
        sla_days=sla, levels=tuple(Level(level) for level in levels), when=when,
        guards=tuple(item.get("guards", [])), requires=tuple(item.get("requires", [])),
        distinct_from=tuple(item.get("distinct_from", [])),
    )


def _role_fits(role: str, expected: str) -> bool:
    if expected == "agency":
        return role.startswith("agency:")
    if expected == "bank":
        return role in ("bank", "lead_bank")
    return role == expected


def _check_reachability(path: Path, definition: Definition) -> None:
    reached, frontier = {Status.DRAFT.value}, [Status.DRAFT.value]
    while frontier:
        state = frontier.pop()
        for spec in definition.transitions:
            if state in spec.sources and spec.dest and spec.dest not in reached:
                reached.add(spec.dest)
                frontier.append(spec.dest)
    unreachable = [s for s in definition.states if s not in reached]
    if unreachable:
        _fail(path, f"unreachable state(s) from draft: {', '.join(unreachable)}")


def load_definitions(directory: Path) -> list[Definition]:
    """Every definition in `directory`; raises DefinitionError listing all problems found."""
    definitions, problems = [], []
    for path in sorted(directory.glob("*.toml")):
        try:
            definitions.append(parse_definition(path))
        except DefinitionError as err:
            problems.append(str(err))
    seen: dict[tuple[str, int], Path] = {}
    for d in definitions:
        if (d.key, d.version) in seen:
            problems.append(f"{d.path.name}: key '{d.key}' version {d.version} also defined in "
                            f"{seen[(d.key, d.version)].name}")
        seen[(d.key, d.version)] = d.path
    if problems:
        raise DefinitionError("\n".join(problems))
    return definitions
