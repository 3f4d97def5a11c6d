"""Everything the project page shows, gathered in one place so the view and template stay
plain: progress over the five stages, timeline, actions, files, comments, deadlines."""

from dataclasses import dataclass, field

from sqlalchemy import exists, select

from .. import access
from ..errors import Invalid
from ..extensions import db
from ..financing.operations import Financing, banks_serving, financing
from ..financing.subsidies import claims_for
from ..models import (
    STAGES,
    Attachment,
    BankClaim,
    ChangeRequest,
    Comment,
    Engagement,
    IntendedBank,
    ListEntry,
    Loan,
    Opinion,
    Project,
    Status,
    User,
    WorkflowEvent,
    china_today,
)
from ..rules.guards import (
    PROCEDURE_OF_ROLE,
    commitment_reasons,
    energy_review_exempt,
    pending_change_of,
    procedure_needed,
    procedures_recorded,
)
from ..workflow import workflows
from ..workflow.deadlines import time_limit
from .attachments import attachments_of
from .comments import comments_of

SIDE = {Status.RETURNED: "side", Status.WITHDRAWN: "side", Status.REJECTED: "danger",
        Status.FAILED: "danger"}


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
    events: list[WorkflowEvent]
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
    subsidies: list = field(default_factory=list)  # the claims the reader may see


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
            "claims": BankClaim, "engagements": Engagement, "loans": Loan}


def children_present(project: Project) -> set[str]:
    row = db.session.execute(select(*[
        exists().where(model.project_id == project.id).label(name)
        for name, model in CHILDREN.items()])).one()
    return {name for name, found in row._mapping.items() if found}


def project_page(user: User, project: Project) -> ProjectPage:
    engine = workflows()
    present = children_present(project)
    events = list(db.session.scalars(select(WorkflowEvent)
                                     .where(WorkflowEvent.project_id == project.id)
                                     .order_by(WorkflowEvent.seq)))
    return_reason = None
    if project.status == Status.RETURNED:
        returns = [e for e in events if e.trigger == "return"]
        return_reason = returns[-1].comment if returns else None
    try:
        definition = engine.for_project(project)
    except Invalid:  # a draft whose place has no document in force; shown without one
        definition = None
    may = {"edit": access.can_edit(user, project), "upload": access.can_upload(user, project),
           "comment": access.can_comment(user, project),
           "name_banks": access.can_name_banks(user, project)}
    panel = access.action_panel(user, project)
    return ProjectPage(
        project=project,
        definition=definition,
        stages=stages_of(project, events),
        actions=panel.owed + panel.other + panel.blocked,
        panel=panel,
        events=[e for e in reversed(events) if access.event_visible(user, e)],
        comments=comments_of(project) if "comments" in present else [],
        attachments=attachments_of(project) if "attachments" in present else [],
        deadlines=waiting(definition, project),
        procedures=procedures_of(definition, project, "opinions" in present),
        pending_change=pending_change_of(project) if "changes" in present else None,
        return_reason=return_reason,
        commitment_reasons=commitment_reasons(project, china_today()),
        may=may,
        finance=financing(user, project, present),
        banks=banks_serving(project.jurisdiction_code) if may["name_banks"] else [],
        subsidies=[claim for claim, _p in claims_for(user, project_id=project.id)],
    )


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
