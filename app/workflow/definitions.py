"""Workflow definitions: policy documents as data (`workflows/*.toml`).

A definition names, for each step of the shared trigger vocabulary, who may fire it, from
which states, under which guards, with which required inputs, citing which clause of its
document — the clause's words quoted verbatim (pieces joined by "……" where words are left
out), our own glosses in a separate note. Every number in it carries its basis:
`document` (a clause and its words, which contain the number), `practice` (a public source
named in DOMAIN.md) or `local` (a setting the agency of the jurisdiction owns: its time
limits, say — the definition holds the default until the agency sets its own). This module
reads and validates them; the engine turns each into a `transitions` machine.
"""

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path

from ..models import AgencyKind, DesignationTag, Level, Status
from ..rules import BRANCHES, GUARDS
from ..rules.resend import RESEND_ORDER
from ..rules.settings import Basis, BasisError
from ..rules.settings import parse_basis as _basis
from .vocabulary import TRIGGERS


class DefinitionError(ValueError):
    """A definition file that cannot be run; the message names the file and the problem."""


TOP_LEVEL = frozenset({"key", "version", "title", "document", "source", "jurisdiction",
                       "effective", "expires", "dated", "draft", "assumed", "issuers", "notes",
                       "clauses", "settings", "targets", "energy_grade", "states",
                       "transitions", "programmes"})
ROLES = frozenset({"enterprise", "bank", "lead_bank"} | {f"agency:{k}" for k in AgencyKind})
# Steps a definition may give without a clause, as a capability of the system rather than of
# its document (its note says so): a send-back to an earlier step, supplying items to follow.
SYSTEM_STEPS = frozenset({"send_back", "supply_items"})
ELLIPSIS = "……"


@dataclass(frozen=True)
class Setting:
    """A number of the definition with its basis; for a `local` one the default until the
    owning agency of a place sets its own (stored as data, see app/rules/settings.py)."""

    name: str
    label: str
    value: Decimal
    unit: str  # working_days | share | count | …
    basis: Basis

    @property
    def days(self) -> int:
        return int(self.value)


@dataclass(frozen=True)
class Target:
    """A figure the document sets for a year, with its clause and words."""

    name: str  # equipment_investment_growth | digital_rd_tools | cnc_key_processes | …
    label: str
    value: Decimal
    unit: str  # share (of a baseline or a population) | count | count_per_year
    year: int
    clause: str
    quote: str
    baseline_year: int | None = None
    approximate: bool = False  # the document says 左右 (about), not 以上 (at least)
    measure: str | None = None  # what in the library measures it; None: no data source here


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str
    sources: tuple[str, ...]
    dest: str | None  # None: an action inside the current stage
    role: str
    clause: str  # the clause id of the document, e.g. 三(四), 结尾段; "" for a SYSTEM_STEP
    quote: str = ""  # the clause's words, verbatim ("……" between pieces)
    note: str = ""  # our gloss: why this clause, what we inferred (never inside the quote)
    time_limit: str | None = None  # the setting holding its time limit in working days
    levels: tuple[Level, ...] = ()  # the acting agency's levels, where the document fixes them
    when: str | None = None  # branch predicate choosing between alternatives
    guards: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    # maker-checker: whoever fired one of these on the project may not fire this step
    distinct_from: tuple[str, ...] = ()
    # 会签: the roles that must each take this step before it counts (one event each; the
    # definition has a transition of the same trigger for every role named)
    all_of: tuple[str, ...] = ()
    # 或签: the roles of which any one takes the step for all (the first approval carries)
    any_of: tuple[str, ...] = ()
    # 驳回到指定环节 (a `send_back` transition): the earlier agency steps it may send back to
    send_back_to: tuple[str, ...] = ()
    # this step, taken once, is not taken again when a send-back to an earlier step resumes
    keep_on_resend: bool = False
    # 容缺受理 (an `accept` transition): the setting giving the working days within which
    # the items accepted as missing are owed
    items_to_follow: str | None = None

    @property
    def joint(self) -> tuple[str, ...]:
        """The roles of its joint step (会签 or 或签), or none."""
        return self.all_of or self.any_of

    @cached_property
    def level_key(self) -> str:
        """The levels as one word ("" for any), e.g. for grouping deadlines."""
        return "/".join(level.value for level in self.levels)

    @cached_property
    def agency_kind(self) -> str | None:
        return self.role.split(":", 1)[1] if self.role.startswith("agency:") else None


PROGRAMME_KINDS = {"interest": "bank", "grant": "enterprise"}  # kind → who claims
PROGRAMME_NUMBERS = {"interest": ("rate", "max_years"), "grant": ()}  # required per kind
NUMBER_UNITS = {"rate": "share", "max_years": "years", "cap_per_project": "wan",
                "cap_per_enterprise": "wan", "cap_per_year": "wan", "claim_days": "days"}
NUMBER_NAMES = frozenset(NUMBER_UNITS)
OPTIONAL_NUMBERS = frozenset({"cap_per_project", "cap_per_enterprise", "cap_per_year",
                              "claim_days"})  # unset: no cap, no deadline
PERIOD_NUMBERS = frozenset({"claim_days"})  # only where claims are per period (interest)


@dataclass(frozen=True)
class ProgrammeNumber:
    """A number a programme runs on: a dated parameter (workflows/parameters, with its
    practice or document basis), or a `local` setting its agency enters — no default: until
    the agency sets it, claims that need it are refused saying so."""

    name: str  # rate | max_years | cap_per_… | claim_days
    label: str
    unit: str  # share | years | wan | days
    basis: Basis | None  # None: the parameter's entries carry it
    parameter: str | None = None

    def key(self, programme: str) -> str:
        """The local setting's key."""
        return f"programme:{programme}:{self.name}"


@dataclass(frozen=True)
class Programme:
    """A fiscal support programme the document names (财政贴息、奖补): who claims, per which
    period, which loans count, and the numbers it runs on, citing its clause verbatim."""

    key: str
    label: str
    kind: str  # interest (on loans, claimed by the lending bank) | grant (奖补, the enterprise)
    period: str  # quarter | once
    clause: str
    quote: str
    loans: str = "all"  # interest: all the bank's loans, or only relending-refinanced ones
    note: str = ""
    numbers: dict = field(default_factory=dict)  # name → ProgrammeNumber

    @property
    def claimant(self) -> str:
        return PROGRAMME_KINDS[self.kind]


@dataclass(frozen=True)
class Definition:
    key: str
    version: int
    title: str
    document: str  # its number (文号); "" where the text bears none
    source: str  # the text's file name, for checks only (never shown)
    jurisdiction: str
    effective: date
    expires: date | None
    states: tuple[str, ...]
    transitions: tuple[TransitionSpec, ...]
    text: str  # the TOML source, kept for snapshots of frozen versions
    issuers: tuple[str, ...] = ()
    notes: str = ""
    draft: bool = False  # a draft for comment (征求意见稿)
    assumed: dict = field(default_factory=dict)  # metadata the text does not state → why
    dated: dict = field(default_factory=dict)  # effective/expires → (clause, quote) stating it
    clauses: dict = field(default_factory=dict)  # clause id → its heading
    settings: dict = field(default_factory=dict)  # name → Setting
    targets: tuple[Target, ...] = ()
    energy_grade: Setting | None = None  # the grade new equipment must reach, if demanded
    programmes: tuple[Programme, ...] = ()
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

    @cached_property
    def designates_lead_bank(self) -> bool:
        """Whether an agency designates the lead bank (heilongjiang's 主办行制度); elsewhere
        the first bank to sign a loan contract is the lead lender."""
        return any(t.trigger == "designate_lead_bank" for t in self.transitions)

    @property
    def roles(self) -> list[str]:
        return sorted({t.role for t in self.transitions})

    def time_limit(self, spec: TransitionSpec) -> Setting | None:
        return self.settings.get(spec.time_limit) if spec.time_limit else None

    def quotes(self) -> list[tuple[str, str]]:
        """Every (clause, quote) the definition cites, for the fidelity check."""
        found = [(t.clause, t.quote) for t in self.transitions]
        found += [(t.clause, t.quote) for t in self.targets]
        numbers = [*self.settings.values(), *([self.energy_grade] if self.energy_grade else [])]
        found += [(s.basis.clause, s.basis.quote) for s in numbers if s.basis.kind == "document"]
        found += list(self.dated.values())
        found += [(p.clause, p.quote) for p in self.programmes]
        return [(clause, quote) for clause, quote in found if quote]


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
    if "clauses" not in raw:
        raw = _from_first_format(raw)

    for name in ("key", "version", "title", "source", "jurisdiction", "effective", "states"):
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
    if not raw.get("document") and "document" not in raw.get("assumed", {}):
        _fail(path, "a document without a number (文号) says why under [assumed] document")
    dated = _parse_dates(path, raw)

    clauses = dict(raw.get("clauses", {}))
    settings = {name: _parse_setting(path, f"setting '{name}'", name, item)
                for name, item in raw.get("settings", {}).items()}
    specs = []
    for index, item in enumerate(raw.get("transitions", []), start=1):
        where = f"transition {index} ('{item.get('trigger', '?')}', {item.get('clause', '?')})"
        spec = _parse_transition(path, where, item, states)
        if spec.time_limit and spec.time_limit not in settings:
            _fail(path, f"{where}: time_limit '{spec.time_limit}' is not a [settings] entry")
        if spec.time_limit and settings[spec.time_limit].unit != "working_days":
            _fail(path, f"{where}: time_limit '{spec.time_limit}' is not in working days")
        items = spec.items_to_follow
        if items and (items not in settings or settings[items].unit != "working_days"):
            _fail(path, f"{where}: items_to_follow '{items}' is not a [settings] entry in "
                        f"working days")
        specs.append(spec)
    if not specs:
        _fail(path, "defines no transitions")
    targets = tuple(_parse_target(path, item) for item in raw.get("targets", []))
    grade = raw.get("energy_grade")

    definition = Definition(
        key=raw["key"],
        version=int(raw["version"]),
        title=raw["title"],
        document=raw.get("document", ""),
        source=raw["source"],
        jurisdiction=str(raw["jurisdiction"]),
        effective=raw["effective"],
        expires=raw.get("expires"),
        states=states,
        transitions=tuple(specs),
        text=text,
        issuers=tuple(raw.get("issuers", ())),
        notes=raw.get("notes", ""),
        draft=bool(raw.get("draft", False)),
        assumed=dict(raw.get("assumed", {})),
        dated=dated,
        clauses=clauses,
        settings=settings,
        targets=targets,
        energy_grade=_parse_setting(path, "energy_grade", "energy_grade", grade) if grade else None,
        programmes=tuple(_parse_programme(path, item) for item in raw.get("programmes", [])),
        path=path,
    )
    cited = {t.clause for t in (*specs, *targets, *definition.programmes) if t.clause} | {
        c for c, _q in dated.values()}
    missing = sorted(cited - set(clauses))
    if missing:
        _fail(path, f"clause(s) {', '.join(missing)} cited but not listed under [clauses]")
    _check_reachability(path, definition)
    _check_drafts_are_the_enterprises(path, definition)
    _check_change_filing_route(path, definition)
    _check_joint_steps(path, definition)
    _check_send_backs(path, definition)
    _check_programmes(path, definition)
    return definition


def _check_drafts_are_the_enterprises(path: Path, definition: Definition) -> None:
    """A draft is the enterprise's own until declared: only the enterprise acts on one, so no
    agency ever owes a step on a draft (which the agencies' queue relies on, see
    access.owed_condition)."""
    for spec in definition.transitions:
        if "draft" in spec.sources and spec.role != "enterprise":
            _fail(path, f"'{spec.trigger}' leaves 'draft' by '{spec.role}': only the "
                        "enterprise acts on a draft")


def _check_send_backs(path: Path, definition: Definition) -> None:
    """驳回到指定环节: each target is an earlier agency step of the definition that can be
    taken where the send-back leaves the project; a step kept on resend is one of the steps
    a send-back may pass over (RESEND_ORDER); 容缺 needs someone to owe the items."""
    for spec in definition.transitions_for("send_back"):
        lands = spec.dest or (spec.sources[0] if len(spec.sources) == 1 else None)
        if lands is None:
            _fail(path, "'send_back' without dest leaves from one state only")
        for target in spec.send_back_to:
            taking = [t for t in definition.transitions_for(target) if lands in t.sources]
            if not taking:
                _fail(path, f"'send_back' to '{target}': no '{target}' transition leaves "
                            f"'{lands}', where the send-back leaves the project")
            # earlier: taking the target leads to where the send-back is taken
            if not {t.dest or lands for t in taking} & set(spec.sources):
                _fail(path, f"'send_back' to '{target}': not an earlier step — taking it "
                            f"does not lead to {', '.join(spec.sources)}")
            if any(t.agency_kind is None for t in taking):
                _fail(path, f"'send_back' to '{target}': not an agency step")
    if any(t.items_to_follow for t in definition.transitions) and not definition.transitions_for(
            "supply_items"):
        _fail(path, "accept with items_to_follow needs a 'supply_items' transition")


def _check_joint_steps(path: Path, definition: Definition) -> None:
    """会签 (`all_of`) and 或签 (`any_of`): every role named takes the same trigger by a
    transition of its own, from the same states, and every such transition names the same
    roles; a joint step is one somebody owes (its signatures are the owed rows)."""
    for spec in definition.transitions:
        if spec.all_of and spec.any_of:
            _fail(path, f"'{spec.trigger}' ({spec.role}): all_of or any_of, not both")
        if not spec.joint:
            continue
        key = "all_of" if spec.all_of else "any_of"
        if len(set(spec.joint)) < 2:
            _fail(path, f"'{spec.trigger}' ({spec.role}): {key} names at least two roles")
        if spec.role not in spec.joint:
            _fail(path, f"'{spec.trigger}' ({spec.role}): {key} does not name its own role")
        trigger = TRIGGERS[spec.trigger]
        if not trigger.owed:
            _fail(path, f"'{spec.trigger}': a joint step is one somebody owes; "
                        f"'{spec.trigger}' is an option beside what is owed")
        if key == "any_of" and trigger.signatures != "project":
            _fail(path, f"'{spec.trigger}': its signatures are kept on its {trigger.signatures}, "
                        f"which knows all_of only")
        roles = {t.role: t for t in definition.transitions_for(spec.trigger)}
        for role in spec.joint:
            if role not in roles:
                _fail(path, f"'{spec.trigger}': {key} names {role}, which has no "
                            f"'{spec.trigger}' transition")
            other = roles[role]
            if set(getattr(other, key)) != set(spec.joint):
                _fail(path, f"'{spec.trigger}': the transitions of {', '.join(spec.joint)} "
                            f"name different {key} roles")
            if set(other.sources) != set(spec.sources) or other.dest != spec.dest:
                _fail(path, f"'{spec.trigger}': the transitions of {', '.join(spec.joint)} "
                            f"leave from different states or go to different ones")


CLAIM_STEPS = ("claim_subsidy", "return_claim", "approve_subsidy", "record_payout")


def _check_programmes(path: Path, definition: Definition) -> None:
    """A document with a programme routes every step of a claim's life; its claims are filed
    by the claimant its kind names (one programme per document)."""
    if len(definition.programmes) > 1:
        _fail(path, "one programme per document (its claims' steps are routed by the document)")
    for programme in definition.programmes:
        for trigger in CLAIM_STEPS:
            if not definition.transitions_for(trigger):
                _fail(path, f"programme '{programme.key}' has no '{trigger}' step")
        for spec in definition.transitions_for("claim_subsidy"):
            if spec.role != programme.claimant:
                _fail(path, f"programme '{programme.key}' ({programme.kind}) is claimed by "
                            f"{programme.claimant}, not '{spec.role}'")
    if not definition.programmes:
        for trigger in (*CLAIM_STEPS, "claw_back"):
            if definition.transitions_for(trigger):
                _fail(path, f"'{trigger}' without a [[programmes]] entry")


PROGRAMME_FIELDS = frozenset({"key", "label", "kind", "period", "clause", "quote", "loans",
                              "note", "numbers"})


def _parse_programme(path: Path, item: dict) -> Programme:
    where = f"programme '{item.get('key', '?')}'"
    unknown = set(item) - PROGRAMME_FIELDS
    if unknown:
        _fail(path, f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for required in ("key", "label", "kind", "period", "clause", "quote"):
        if not item.get(required):
            _fail(path, f"{where}: missing '{required}'")
    kind = item["kind"]
    if kind not in PROGRAMME_KINDS:
        _fail(path, f"{where}: kind is interest or grant, not {kind!r}")
    period = item["period"]
    if period not in ("quarter", "once") or (kind == "interest") != (period == "quarter"):
        _fail(path, f"{where}: interest is claimed per quarter, a grant once")
    loans = item.get("loans", "all")
    if loans not in ("all", "relending"):
        _fail(path, f"{where}: loans is all or relending, not {loans!r}")
    numbers = {}
    for name, raw in item.get("numbers", {}).items():
        if name not in NUMBER_NAMES:
            _fail(path, f"{where}: unknown number '{name}'")
        if name in PERIOD_NUMBERS and period != "quarter":
            _fail(path, f"{where}: '{name}' counts from the end of a claimed quarter; "
                        f"a grant claimed once has none")
        if "value" in raw:
            _fail(path, f"{where}: number '{name}' states no value here: a dated parameter "
                        f"(parameter = …) or the agency's own setting (basis = \"local\")")
        if raw.get("parameter"):
            numbers[name] = ProgrammeNumber(name, raw.get("label", name), NUMBER_UNITS[name],
                                            None, raw["parameter"])
            continue
        basis = parse_basis(path, f"{where} number '{name}'", raw)
        if basis.kind != "local":
            _fail(path, f"{where}: number '{name}' is a dated parameter or a local setting")
        numbers[name] = ProgrammeNumber(name, raw.get("label", name), NUMBER_UNITS[name], basis)
    for name in PROGRAMME_NUMBERS[kind]:
        if name not in numbers:
            _fail(path, f"{where}: an {kind} programme needs the number '{name}'")
    return Programme(key=item["key"], label=item["label"], kind=kind, period=period,
                     clause=item["clause"], quote=item["quote"], loans=loans,
                     note=item.get("note", ""), numbers=numbers)


def _from_first_format(raw: dict) -> dict:
    """A definition in the first format (version 1 files, kept as snapshots for projects
    frozen on them): `clause = "<file> <clause>：<words>"` and bare `sla_days`. Read into the
    present shape so those projects go on as they were decided; its time limits become
    local defaults, and its figures are not used for reports."""
    raw = {k: v for k, v in raw.items() if k != "target"}
    raw.setdefault("assumed", {}).update(
        {k: "first-format definition" for k in ("document", "effective", "expires")})
    settings, clauses, transitions = {}, {}, []
    for index, item in enumerate(raw.get("transitions", []), start=1):
        item = dict(item)
        cited = item.get("clause", "").removeprefix(f"{raw.get('source', '')} ")
        clause, _sep, quote = cited.partition("：")
        item["clause"], item["quote"] = clause or cited, quote or cited
        clauses[item["clause"]] = ""
        days = item.pop("sla_days", None)
        if days:
            owner = item["role"] if item["role"].startswith("agency:") else "agency:miit"
            settings[f"step_{index}"] = {"label": item["trigger"], "value": days,
                                         "unit": "working_days", "basis": "local",
                                         "owner": owner}
            item["time_limit"] = f"step_{index}"
        transitions.append(item)
    return {**raw, "clauses": clauses, "settings": settings, "transitions": transitions}


def _parse_dates(path: Path, raw: dict) -> dict:
    """Each date the definition runs on is stated by its document (`[dated]`: the clause and
    the words giving it) or assumed with the reason (`[assumed]`)."""
    dated = {}
    for name in ("effective", "expires"):
        if name not in raw:
            continue
        stated = raw.get("dated", {}).get(name)
        if stated is None:
            if name not in raw.get("assumed", {}):
                _fail(path, f"{name} {raw[name]} is neither stated ([dated] {name}: clause, "
                            f"quote) nor assumed with a reason ([assumed] {name})")
            continue
        day = raw[name]
        numbers = [int(n) for n in re.findall(r"\d+", stated.get("quote", ""))]
        if numbers[:3] != [day.year, day.month, day.day]:
            _fail(path, f"{name} {day}: its quote “{stated.get('quote')}” does not give that date")
        dated[name] = (stated["clause"], stated["quote"])
    return dated


def _check_change_filing_route(path: Path, definition: Definition) -> None:
    """A change filing goes to the agency that registered the filing."""
    filing = {t.role for t in definition.transitions_for("file")}
    for trigger in ("approve_change", "refuse_change"):
        for spec in definition.transitions_for(trigger):
            if spec.role not in filing:
                _fail(path, f"'{trigger}' is routed to '{spec.role}', but filings are registered "
                            f"by {', '.join(sorted(filing)) or 'nobody'}")


def _decimal(path: Path, where: str, value) -> Decimal:
    if isinstance(value, bool):
        _fail(path, f"{where}: value must be a number")
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        _fail(path, f"{where}: value {value!r} is not a number")


def parse_basis(path: Path, where: str, item: dict) -> Basis:
    try:
        return _basis(item, ROLES)
    except BasisError as err:
        _fail(path, f"{where}: {err}")


def _parse_setting(path: Path, where: str, name: str, item: dict) -> Setting:
    unknown = set(item) - {"value", "unit", "label", "basis", "clause", "quote", "source",
                           "owner", "document"}
    if unknown:
        _fail(path, f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for required in ("value", "unit", "label"):
        if required not in item:
            _fail(path, f"{where}: missing '{required}'")
    value = _decimal(path, where, item["value"])
    if item["unit"] == "working_days" and (value != int(value) or value <= 0):
        _fail(path, f"{where}: a time limit is a positive whole number of working days")
    basis = parse_basis(path, where, item)
    if basis.kind == "document":
        _check_number_in_quote(path, where, value, item["unit"], basis.quote)
    return Setting(name, item["label"], value, item["unit"], basis)


TARGET_FIELDS = frozenset({"name", "label", "value", "unit", "year", "baseline_year", "clause",
                           "quote", "approximate", "measure"})
MEASURES = frozenset({"equipment_investment_growth", "projects_per_year",
                      *(f"designated:{tag.value}" for tag in DesignationTag)})


def _parse_target(path: Path, item: dict) -> Target:
    where = f"target '{item.get('name', '?')}'"
    unknown = set(item) - TARGET_FIELDS
    if unknown:
        _fail(path, f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for required in ("name", "label", "value", "unit", "year", "clause", "quote"):
        if required not in item:
            _fail(path, f"{where}: missing '{required}'")
    measure = item.get("measure")
    if measure is not None and measure not in MEASURES:
        _fail(path, f"{where}: unknown measure '{measure}' (known: {', '.join(sorted(MEASURES))})")
    value = _decimal(path, where, item["value"])
    _check_number_in_quote(path, where, value, item["unit"], item["quote"])
    if str(item["year"]) not in _digits(item["quote"]):
        _fail(path, f"{where}: the year {item['year']} is not in its quote")
    return Target(name=item["name"], label=item["label"], value=value, unit=item["unit"],
                  year=int(item["year"]), clause=item["clause"], quote=item["quote"],
                  baseline_year=item.get("baseline_year"),
                  approximate=bool(item.get("approximate", False)), measure=measure)


CHINESE_DIGITS = dict(zip("一二三四五六七八九", "123456789", strict=True))


def _digits(text: str) -> str:
    """The text without whitespace, a lone Chinese numeral (二级) read as its digit."""
    text = re.sub(r"\s+", "", text)
    return re.sub(r"(?<![一二三四五六七八九十])([一二三四五六七八九])(?![一二三四五六七八九十])",
                  lambda m: CHINESE_DIGITS[m.group(1)], text)


def _check_number_in_quote(path: Path, where: str, value: Decimal, unit: str,
                           quote: str) -> None:
    """A number cited to a document must be in the words quoted (a share as a percentage)."""
    shown = value * 100 if unit == "share" else value
    number = format(shown.normalize(), "f")
    if not re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", _digits(quote)):
        _fail(path, f"{where}: the quote does not contain the number {number}"
                    f"{'%' if unit == 'share' else ''}")


def _parse_transition(path, where, item, states) -> TransitionSpec:
    unknown = set(item) - {"trigger", "source", "dest", "role", "clause", "quote", "note",
                           "time_limit", "level", "when", "guards", "requires", "distinct_from",
                           "all_of", "any_of", "send_back_to", "keep_on_resend",
                           "items_to_follow"}
    if unknown:
        _fail(path, f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for name in ("trigger", "source", "role"):
        if not item.get(name):
            _fail(path, f"{where}: missing '{name}'")
    trigger = item["trigger"]
    # A step no document provides (a capability of the system) cites nothing and says so in
    # its note; every other step cites its clause and words.
    system = item["trigger"] in SYSTEM_STEPS and not (item.get("clause") or item.get("quote"))
    for name in ("note",) if system else ("clause", "quote"):
        if not item.get(name):
            _fail(path, f"{where}: missing '{name}'" + (
                " (a step no document provides says why in its note)" if system else ""))
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
    for key in ("all_of", "any_of"):
        for other in item.get(key, []):
            if other not in ROLES or not other.startswith("agency:"):
                _fail(path, f"{where}: {key} names '{other}', not an agency role")
    send_back_to = item.get("send_back_to", [])
    if (trigger == "send_back") != bool(send_back_to):
        _fail(path, f"{where}: send_back_to names the targets of a 'send_back', and only there")
    for target in send_back_to:
        if target not in RESEND_ORDER or TRIGGERS[target].actor != "agency":
            targets = [t for t in RESEND_ORDER if TRIGGERS[t].actor == "agency"]
            _fail(path, f"{where}: send_back_to names '{target}' (an earlier agency step: "
                        f"{', '.join(targets)})")
    keep = item.get("keep_on_resend", False)
    if not isinstance(keep, bool) or (keep and trigger not in RESEND_ORDER):
        _fail(path, f"{where}: keep_on_resend is true or false, on one of "
                    f"{', '.join(RESEND_ORDER)}")
    items = item.get("items_to_follow")
    if items is not None and (trigger != "accept" or not isinstance(items, str)):
        _fail(path, f"{where}: items_to_follow names a setting, on an 'accept' only")
    guards = tuple(item.get("guards", []))
    if trigger == "send_back":  # the target was taken (and may be taken again)
        guards = (*guards, "send_back_target")
    if trigger == "accept":  # items to follow only where the definition allows them
        guards = (*guards, "items_to_follow_allowed")
    return TransitionSpec(
        trigger=trigger, sources=sources, dest=dest, role=role, clause=item.get("clause", ""),
        quote=item.get("quote", ""), note=item.get("note", ""), time_limit=item.get("time_limit"),
        levels=tuple(Level(level) for level in levels), when=when,
        guards=guards, requires=tuple(item.get("requires", [])),
        distinct_from=tuple(item.get("distinct_from", [])),
        all_of=tuple(item.get("all_of", [])), any_of=tuple(item.get("any_of", [])),
        send_back_to=tuple(send_back_to), keep_on_resend=keep, items_to_follow=items,
    )


def _role_fits(role: str, expected: str) -> bool:
    if expected == "agency":
        return role.startswith("agency:")
    if expected == "bank":
        return role in ("bank", "lead_bank")
    if expected == "claimant":  # the lending bank or the enterprise, by the programme's kind
        return role in ("bank", "lead_bank", "enterprise")
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


# -- fidelity to the documents ------------------------------------------------------------


def squeeze(text: str) -> str:
    """Text without whitespace or the typesetting marks some seed files carry (markdown
    emphasis): quotes are matched "whitespace aside"."""
    return re.sub(r"[\s*#]+", "", text)


def unquoted(definition: Definition, document_text: str) -> list[str]:
    """The cited pieces of `definition` not found, in order, in its document's text."""
    haystack = squeeze(document_text)
    missing = []
    for clause, quote in definition.quotes():
        position = 0
        for piece in quote.split(ELLIPSIS):
            found = haystack.find(squeeze(piece), position) if piece.strip() else position
            if found < 0:
                missing.append(f"{definition.path.name if definition.path else definition.key}"
                               f" {clause}: “{piece.strip()}” is not in {definition.source}")
                break
            position = found + len(squeeze(piece))
    return missing
