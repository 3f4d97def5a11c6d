"""Everything the project page shows, gathered in one place so the view and template stay
plain: progress over the five stages, timeline, actions, files, comments, deadlines."""

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from sqlalchemy import Integer, bindparam, exists, select

from .. import access
from ..errors import Invalid
from ..extensions import db
from ..financing.operations import Financing, banks_serving, financing
from ..financing.subsidies import claims_for
from ..i18n import gettext as _
from ..labels import (
    FIELD_LABELS,
    POLICY_CLASS_LABELS,
    ROLE_LABELS,
    TASK_LABELS,
    event_tone,
    join_list,
    paren,
    step_label,
)
from ..models import (
    STAGES,
    Attachment,
    BankClaim,
    ChangeRequest,
    Comment,
    Designation,
    Engagement,
    IntendedBank,
    Jurisdiction,
    ListEntry,
    Loan,
    Opinion,
    Organization,
    OrgKind,
    ProgressReport,
    Project,
    Status,
    SubsidyClaim,
    User,
    WorkflowEvent,
    ancestor_codes,
    china_date,
    china_today,
)
from ..rules.guards import (
    PROCEDURE_OF_ROLE,
    commitment_reasons,
    energy_review_exempt,
    pending_change_of,
    procedure_needed,
    procedures_recorded,
    status_name,
)
from ..rules.money import format_wan
from ..rules.project_values import values_before
from ..rules.resend import items_of
from ..workflow import workflows
from ..workflow.deadlines import time_limit
from ..workflow.render import cite_event
from ..workflow.vocabulary import ITEMS_LAPSED
from .attachments import attachments_of
from .comments import comments_of
from .designations import tags_of
from .progress import Progress, progress_of

SIDE = {Status.RETURNED: "side", Status.WITHDRAWN: "side", Status.REJECTED: "danger",
        Status.FAILED: "danger", Status.EXITED: "danger"}


@dataclass
class Waiting:
    """An open deadline with its time limit and where that number comes from."""

    deadline: object
    days: int
    basis: object  # rules.settings.Figure


@dataclass
class Procedure:
    """A preliminary procedure (前期手续) tracked beside the filing."""

    name: str  # land | energy | environment
    role: str
    outcome: object = None  # the recorded Opinion, if any
    exempt: bool = False  # energy review below the thresholds


@dataclass
class FieldChange:
    """One field's value before and after, as the reader reads them."""

    name: str
    label: str
    old: str
    new: str


@dataclass
class Reason:
    """One point of a return's reasons, and the changed fields it names."""

    text: str
    addressed: list[str]


@dataclass
class Revision:
    """A returned project's correction: the return's reasons as a checklist, and what the
    enterprise changed since (old → new), from the edits' audit events."""

    returned: WorkflowEvent
    reasons: list[Reason]
    changes: list[FieldChange]


@dataclass
class Line:
    """A timeline line: the event and the words that introduce it."""

    event: object
    tone: str  # "warn", "danger", "success" or none
    role: str  # the actor's role, as a parenthetical
    step: str
    status: str | None  # the state the step moved the project to, if it moved it
    citation: object  # the clause it was taken under (render.Citation), if any


def timeline(project: Project, events: list) -> list[Line]:
    """The timeline's lines: each label worked out once per page, not once per line (a
    long trail repeats a few steps, roles and states many times)."""
    role = cache(lambda name: paren(ROLE_LABELS.get(name, name)))
    step = cache(step_label)
    status = cache(lambda state: status_name(project, state))
    return [Line(e, event_tone(e.trigger, e.to_state), role(e.actor_role), step(e.trigger),
                 status(e.to_state) if e.from_state != e.to_state else None, cite_event(e))
            for e in events]


@dataclass
class Stage:
    status: Status
    state: str  # done | current | todo | side | danger
    since: object = None  # when the project first reached it


@dataclass
class ProjectPage:
    project: Project
    definition: object
    stages: list[Stage]
    actions: list
    events: list  # rows of workflow_events, newest first, as the reader may see them
    comments: list
    attachments: list
    deadlines: list[Waiting]
    procedures: list[Procedure]
    pending_change: object
    return_reason: str | None
    commitment_reasons: list[str]
    may: dict = field(default_factory=dict)  # what else the reader may do here (access)
    finance: Financing | None = None
    banks: list = field(default_factory=list)  # for the enterprise to name intended banks
    panel: object = None  # access.Panel: the reader's actions, what they owe first
    revision: Revision | None = None  # returned, or resubmitted after a return
    pending_changes: list = field(default_factory=list)  # the pending change filing, old → new
    filing_agency: str | None = None  # 备案机关, for the print forms (print_page)
    declared_on: object = None  # the day (China time) it was submitted, for the print forms
    progress: Progress | None = None  # monthly construction progress (月调度)
    designations: list[str] = field(default_factory=list)  # key and demonstration tags
    subsidies: list = field(default_factory=list)  # the claims the reader may see
    joint: list = field(default_factory=list)  # joint steps: who has signed, who is awaited
    items_to_follow: list[str] = field(default_factory=list)  # 容缺: documents still owed
    timeline: list[Line] = field(default_factory=list)  # the events shown, newest first


def stages_of(project: Project, events: list[WorkflowEvent]) -> list[Stage]:
    reached = {}
    for event in events:
        reached.setdefault(event.to_state, event.created_at)
    if project.status in STAGES:
        current = STAGES.index(project.status)
        state_of = lambda i: "done" if i < current else "current" if i == current else "todo"  # noqa: E731
        if project.status == Status.COMPLETED:
            state_of = lambda i: "done"  # noqa: E731
    else:  # stopped before or at declaration, or drafting
        side = SIDE.get(project.status)
        state_of = lambda i: (side if i == 0 and side else "todo")  # noqa: E731
    return [Stage(s, state_of(i), reached.get(s.value)) for i, s in enumerate(STAGES)]


# Tables of a project's own rows that the page shows. Most projects have rows in few of
# them; one query saying which spares a query for each of the others.
CHILDREN = {"comments": Comment, "attachments": Attachment, "opinions": Opinion,
            "changes": ChangeRequest, "intended_banks": IntendedBank, "lists": ListEntry,
            "claims": BankClaim, "engagements": Engagement, "loans": Loan,
            "designations": Designation, "progress": ProgressReport, "subsidies": SubsidyClaim}


def children_present(project: Project) -> set[str]:
    row = db.session.execute(_children_query(), {"project_id": project.id}).one()
    return {name for name, found in row._mapping.items() if found}


# Events that send a project back to its enterprise with reasons (the last one's are shown).
RETURNS = frozenset({"return", ITEMS_LAPSED})


@cache
def _children_query():
    """Built once: building its ten subqueries cost more than running them."""
    key = bindparam("project_id", type_=Integer)
    return select(*[exists().where(model.project_id == key).label(name)
                    for name, model in CHILDREN.items()])


@cache
def _events_query():
    """A project's audit trail in order, as rows (each with the event's attributes by
    name): the page only reads them, and a long trail built as ORM objects cost more than
    the rest of the page."""
    events = WorkflowEvent.__table__
    return (select(*events.c).where(events.c.project_id == bindparam("project_id", type_=Integer))
            .order_by(events.c.seq))


def project_page(user: User, project: Project) -> ProjectPage:
    engine = workflows()
    present = children_present(project)
    events = db.session.execute(_events_query(), {"project_id": project.id}).all()
    return_reason = None
    if project.status == Status.RETURNED:
        returns = [e for e in events if e.trigger in RETURNS]
        return_reason = returns[-1].comment if returns else None
    try:
        definition = engine.for_project(project)
    except Invalid:  # a draft whose place has no document in force; shown without one
        definition = None
    attachments = attachments_of(project) if "attachments" in present else []
    may = {"edit": access.can_edit(user, project), "upload": access.can_upload(user, project),
           "delete_files": {a.id for a in attachments
                            if access.can_delete_attachment(user, project, a)},
           "comment": access.can_comment(user, project),
           "name_banks": access.can_name_banks(user, project),
           "redeclare": access.can_redeclare(user, project),
           "designate": access.can_designate(user, project)}
    panel = access.action_panel(user, project)
    pending_change = pending_change_of(project) if "changes" in present else None
    shown = [e for e in reversed(events) if access.event_visible(user, e)]
    return ProjectPage(
        project=project,
        definition=definition,
        stages=stages_of(project, events),
        actions=panel.owed + panel.other + panel.blocked,
        panel=panel,
        events=shown,
        timeline=timeline(project, shown),
        comments=comments_of(project) if "comments" in present else [],
        attachments=attachments,
        deadlines=waiting(definition, project),
        procedures=procedures_of(definition, project, "opinions" in present),
        pending_change=pending_change,
        pending_changes=pending_changes(project, pending_change),
        revision=revision_of(project, events),
        return_reason=return_reason,
        commitment_reasons=commitment_reasons(project, china_today()),
        may=may,
        finance=financing(user, project, present),
        banks=banks_serving(project.jurisdiction_code) if may["name_banks"] else [],
        progress=progress_of(project, definition, reported="progress" in present),
        designations=tags_of(project) if "designations" in present else [],
        subsidies=[claim for claim, _p in claims_for(user, project_id=project.id)]
        if "subsidies" in present else [],
        joint=access.joint_steps(user, project),
        items_to_follow=items_of(project),
    )


AMOUNTS = frozenset({"total_investment", "fixed_asset_investment", "equipment_investment",
                     "retired_equipment_value", "annual_investment", "financing_need"})


def shown_value(name: str, value) -> str:
    """A field's value (as the audit trail keeps it) as the page shows it."""
    if value is None or value == "" or value == []:
        return "—"
    if name in AMOUNTS:
        return f"{format_wan(Decimal(str(value)))} {_('10k yuan')}"
    if name == "new_land":
        return _("Yes") if value else _("No")
    if name == "task":
        return str(TASK_LABELS.get(value, value))
    if name == "policy_class":
        return str(POLICY_CLASS_LABELS.get(value, value))
    if name == "jurisdiction":
        place = db.session.get(Jurisdiction, value)
        return place.full_name if place else str(value)
    if name == "equipment":
        return join_list(_equipment_text(row) for row in value)
    return str(value)


def _equipment_text(row: dict) -> str:
    kind = _("New (to buy)") if row.get("kind") == "new" else _("Old (to retire)")
    words = [kind, row.get("name") or "", row.get("model") or "", f"×{row.get('quantity')}"]
    if row.get("unit_price") is not None:
        words.append(f"{format_wan(Decimal(str(row['unit_price'])))} {_('10k yuan')}")
    return " ".join(w for w in words if w)


def field_changes(before: dict, after: dict) -> list[FieldChange]:
    return [FieldChange(name, str(FIELD_LABELS.get(name, name)), shown_value(name, old),
                        shown_value(name, after.get(name)))
            for name, old in before.items()]


REASON_BREAK = re.compile(r"[\n；;]+")
NUMBERING = re.compile(r"^\s*(?:\(?\d+[)）]|\d+[、.．]|[（(][一二三四五六七八九十]+[)）]|"
                       r"[一二三四五六七八九十]+、)\s*")


def reason_points(comment: str | None) -> list[str]:
    """A return's comment as its points: one per line or per ；, numbering removed."""
    points = [NUMBERING.sub("", part).strip().rstrip("。.") for part in
              REASON_BREAK.split(comment or "")]
    return [p for p in points if p]


def revision_of(project: Project, events: list[WorkflowEvent]) -> Revision | None:
    """For a project returned, or declared again after a return: the last return's reasons
    and every field changed since, its value at the return → its value now."""
    if project.status not in (Status.RETURNED, Status.DECLARED):
        return None
    returns = [i for i, e in enumerate(events) if e.trigger in RETURNS]
    if not returns:
        return None
    returned = events[returns[-1]]
    before, after = {}, {}
    for event in events[returns[-1] + 1:]:
        if event.trigger != "edit" or "before" not in (event.data or {}):
            continue
        for name, old in event.data["before"].items():
            before.setdefault(name, old)
            after[name] = event.data["changes"].get(name)
    changes = [c for c in field_changes(before, after) if c.old != c.new]
    changed_labels = {c.label for c in changes}
    reasons = [Reason(point, sorted(label for label in changed_labels if label in point))
               for point in reason_points(returned.comment)]
    return Revision(returned, reasons, changes)


def pending_changes(project: Project, change) -> list[FieldChange]:
    """A pending change filing field by field: the value in force → the value asked for."""
    if change is None:
        return []
    return field_changes(values_before(project, change.changes), change.changes)


def print_page(user: User, project: Project) -> ProjectPage:
    """The page with what the print forms also name: the filing agency (备案机关)."""
    page = project_page(user, project)
    page.filing_agency = filing_agency(page.definition, project, page.events)
    page.declared_on = china_date(project.declared_at) if project.declared_at else None
    return page


def filing_agency(definition, project: Project, events: list[WorkflowEvent]) -> str | None:
    """Who files the project: the agency that did, once filed; before, the agency the
    document routes `file` to — the registered one nearest the project among its places
    (at the document's levels), or else the role's name in the project's place."""
    filed = next((e for e in events if e.trigger == "file"), None)
    if filed is not None:
        return filed.actor_org_name
    spec = next(iter(definition.transitions_for("file")), None) if definition else None
    if spec is None or not spec.role.startswith("agency:"):
        return None
    places = ancestor_codes(project.jurisdiction_code)
    candidates = db.session.scalars(
        select(Organization).join(Organization.jurisdiction)
        .where(Organization.kind == OrgKind.AGENCY,
               Organization.agency_kind == spec.role.removeprefix("agency:"),
               Organization.jurisdiction_code.in_(places))).all()
    candidates = [o for o in candidates
                  if not spec.levels or o.jurisdiction.level in spec.levels]
    if candidates:
        return min(candidates, key=lambda o: (places.index(o.jurisdiction_code), o.id)).name
    place = next((db.session.get(Jurisdiction, code) for code in places
                  if not spec.levels
                  or db.session.get(Jurisdiction, code).level in spec.levels), None)
    return f"{place.full_name if place else ''}{ROLE_LABELS.get(spec.role, spec.role)}"


def waiting(definition, project: Project) -> list[Waiting]:
    """The agencies' steps the project waits for, each with its time limit and its basis."""
    found = []
    for deadline in project.deadlines:
        if deadline.met_at is not None or deadline.due_on is None:
            continue
        spec = next((t for t in definition.transitions_for(deadline.trigger)
                     if t.role == deadline.role and t.time_limit), None) if definition else None
        figure = time_limit(definition, spec, project.jurisdiction_code,
                            deadline.started_on) if spec else None
        found.append(Waiting(deadline, deadline.sla_days, figure))
    return found


def procedures_of(definition, project: Project, recorded: bool) -> list[Procedure]:
    """The preliminary procedures the document routes for this project, with their outcomes:
    which agency, whether it is needed (an energy review below the thresholds is not)."""
    if definition is None or project.accepted_at is None:
        return []
    outcomes = procedures_recorded(project) if recorded else {}
    today = china_today()
    found = []
    for spec in definition.transitions_for("record_opinion"):
        name = PROCEDURE_OF_ROLE.get(spec.role)
        if name is None or any(p.role == spec.role for p in found):
            continue
        exempt = name == "energy" and energy_review_exempt(project, today)
        if exempt or procedure_needed(project, name, today):
            found.append(Procedure(name, spec.role, outcomes.get(spec.role), exempt))
    return found
