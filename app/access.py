"""Every "may this user …" question, answered in one place.

Visibility (which projects a user may see, as one SQL predicate reused by every list), the
steps a user may take on a project now (the engine's answer, behind visibility), and each
other permission — edit, upload, comment, name banks, the bank's own rows, the sections of
the app a user reaches. Services check these before they act, routes before they render,
templates read them from the page: no rule is written twice.

A refusal is a `DomainError` (403, 404 or 409 with a translated message), returned by the
`*_refusal` functions; the `can_*` predicates say yes or no from the same rule.
"""

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, exists, false, or_, select, true, tuple_
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from .errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from .extensions import db
from .i18n import gettext as _
from .labels import ROLE_LABELS
from .models import (
    BankClaim,
    Deadline,
    ListEntry,
    Loan,
    Organization,
    OrgKind,
    OrgLink,
    Project,
    Status,
    User,
    WorkflowEvent,
    china_today,
)
from .models.org import LEVEL_PREFIX
from .rules.roles import (
    duty_denial,
    hold_denial,
    one_person_and_covered,
    role_denial,
)
from .workflow import Available, workflows
from .workflow.joint import open_joint_steps

# -- visibility --------------------------------------------------------------------------


def within(jurisdiction):
    """SQL condition: the project lies in `jurisdiction` or below (indexed columns)."""
    digits = LEVEL_PREFIX[jurisdiction.level]
    if digits == 0:
        return true()
    column = {2: Project.province_code, 4: Project.city_code, 6: Project.jurisdiction_code}[digits]
    return column == jurisdiction.code


def owed_within(jurisdiction):
    """SQL condition: the owed row (`Deadline`) lies in `jurisdiction` or below, by the place
    the row keeps beside its project's (`DeadlineRow.locate`: the same, moved with it) — so the
    open rows of a place are found by their own index (`ix_deadlines_open_place`, province
    first), not by reading every open row of the role and joining its project."""
    digits = LEVEL_PREFIX[jurisdiction.level]
    code = jurisdiction.code
    places = [(2, Deadline.province_code, code[:2] + "0000"),
              (4, Deadline.city_code, code[:4] + "00"), (6, Deadline.jurisdiction_code, code)]
    return and_(true(), *[column == value for size, column, value in places if size <= digits])


# Aliases, so that subqueries correlate with projects only, even inside queries that select
# from these tables too (a bank's loan book); made once, as building them is not cheap.
_ENTRY, _CLAIM, _LOAN, _EVENT, _LINKED = (aliased(ListEntry), aliased(BankClaim), aliased(Loan),
                                          aliased(WorkflowEvent), aliased(Project))


def visible_condition(user: User):
    """SQL condition selecting the projects `user` may see."""
    org = user.organization
    if user.is_admin or org.kind == OrgKind.OPERATOR:
        return true()
    if org.kind == OrgKind.ENTERPRISE:
        return Project.enterprise_id == org.id
    if org.kind == OrgKind.AGENCY:
        # Drafts are the enterprise's own until declared.
        return within(org.jurisdiction) & (Project.status != Status.DRAFT)
    if org.kind == OrgKind.BANK:
        served = or_(*[within(area) for area in org.service_areas]) if org.service_areas else false()
        entry, claim, loan = _ENTRY, _CLAIM, _LOAN
        listed = exists().where(entry.project_id == Project.id)
        involved = or_(
            Project.lead_bank_id == org.id,
            exists().where(claim.project_id == Project.id, claim.bank_id == org.id),
            exists().where(loan.project_id == Project.id, loan.bank_id == org.id),
        )
        return (served & listed) | involved
    return false()


def can_see(user: User, project) -> bool:
    org = user.organization
    if user.is_admin or org.kind == OrgKind.OPERATOR:
        return True
    if org.kind == OrgKind.ENTERPRISE:
        return project.enterprise_id == org.id
    if org.kind == OrgKind.AGENCY:
        return project.status != Status.DRAFT and org.jurisdiction.contains(project.jurisdiction_code)
    return bool(db.session.scalar(
        select(visible_condition(user)).select_from(Project).where(Project.id == project.id)))


def see_refusal(user: User, project) -> DomainError | None:
    """Projects a user may not see do not exist for them (404, never 403)."""
    return None if project is not None and can_see(user, project) else NotFound(
        _("No such project."))


# -- steps -------------------------------------------------------------------------------


def available_steps(user: User, project, today: date | None = None) -> list[Available]:
    """The workflow steps `user` holds the role for on `project` now, each saying whether
    its guards pass (and if not, why): the one answer to "what may this person do here"."""
    if not can_see(user, project):
        return []
    return workflows().available_triggers(project, user, today)


def can_migrate_workflows(user: User) -> bool:
    """Moving projects in flight onto a new version of their rules is an administrator's."""
    return user.is_admin


# -- who owes what now ---------------------------------------------------------------------
#
# The engine keeps one row per owed step (`deadlines`, see app/workflow/deadlines.py). Who
# owes a row is this one SQL condition: the queue, its counts, the workbench and the API's
# queue select by it, and the project page asks it for one project. What the row's holder
# may then do is `available_steps`.


def owed_condition(user: User, today: date | None = None):
    """SQL condition on `Deadline` joined to `Project`: the open steps `user` owes — an
    agency's by role, level and place, unclaimed or claimed by them or by an officer they
    stand in for today, never the maker's own check (maker-checker, a deputy and the officer
    as one person) nor on an enterprise the agency is linked to; an enterprise's or a bank's
    by organisation.

    An agency's is said on the owed row's own columns (its place, kept beside its project's
    by `DeadlineRow.locate`) and two small lists of ids, never on the project row: so its
    queue counts a city's thousands of open rows from their index alone, and pages its first
    rows by due day reading only the projects shown. It asks nothing of the project's status:
    no agency owes a step on a draft, the only status agencies may not see (each definition is
    checked for it: only the enterprise acts on a draft)."""
    org = user.organization
    if user.is_admin or org.kind == OrgKind.OPERATOR:
        return false()
    if org.kind != OrgKind.AGENCY:
        return Deadline.met_at.is_(None) & (Deadline.org_id == org.id) & visible_condition(user)
    level = org.jurisdiction.level.value
    event = _EVENT
    # (the step owed, a step its maker took): the maker may not take the step owed
    apart = [(trigger, made) for trigger, steps in workflows().apart_pairs() for made in steps]
    people, stood_in_for = one_person_and_covered(user, today)
    # asked only of the rows whose step has a maker to keep apart (a few kinds of step), so
    # that the trail is not read for every owed row
    made = (Deadline.trigger.in_({trigger for trigger, _made in apart}) & exists().where(
        event.project_id == Deadline.project_id,
        or_(event.actor_id.in_(people), event.on_behalf_of_id.in_(people)),
        tuple_(Deadline.trigger, event.trigger).in_(apart))) if apart else false()
    # the projects of enterprises the agency is linked to: a short list, read once
    linked = Deadline.project_id.in_(select(_LINKED.id).where(_LINKED.enterprise_id.in_(
        select(OrgLink.enterprise_id).where(OrgLink.agency_id == org.id))))
    held = or_(Deadline.holder_id.is_(None),
               Deadline.holder_id.in_({user.id, *stood_in_for}))
    return (Deadline.met_at.is_(None) & Deadline.org_id.is_(None) & (Deadline.role == org.role)
            & or_(Deadline.level == "", Deadline.level.contains(level))
            & owed_within(org.jurisdiction) & held & ~linked & ~made)


def owed_rows(user: User, project, today: date | None = None) -> list[Deadline]:
    """The rows of `project` that `user` owes now."""
    return list(db.session.scalars(select(Deadline).join(Project, Deadline.project_id == Project.id)
                                   .where(Deadline.project_id == project.id,
                                          owed_condition(user, today)).order_by(Deadline.id)))


def deadlines_and_owed(user: User, project, today: date | None = None) -> tuple[list, set[int]]:
    """`project.deadlines` and the ids of those `user` owes now (`owed_rows`), read with one
    query when the project's rows are not loaded yet: each row with `owed_condition` as a
    column, which is true exactly where `owed_rows` would select the row. The rows then
    become the project's loaded `deadlines` (in their order, due date first)."""
    if "deadlines" in project.__dict__:  # loaded already (or a step's state)
        return project.deadlines, {row.id for row in owed_rows(user, project, today)}
    rows = db.session.execute(
        select(Deadline, owed_condition(user, today).label("owed"))
        .join(Project, Deadline.project_id == Project.id)
        .where(Deadline.project_id == project.id).order_by(Deadline.due_on, Deadline.id)).all()
    set_committed_value(project, "deadlines", [row[0] for row in rows])
    return project.deadlines, {row[0].id for row in rows if row.owed}


@dataclass(frozen=True)
class Panel:
    """A reader's actions on a project, in the order they need them: what they owe (the
    queue's answer for this project), what else they may do, what they cannot do yet and
    why, and what the project waits for from others (and why not from them)."""

    owed: list[Available]
    other: list[Available]
    blocked: list[Available]
    awaited: list["Awaited"]
    handling: list["Handling"] = ()


def action_panel(user: User, project, today: date | None = None) -> Panel:
    # what the project waits for first: it reads the project's deadlines with which of them
    # the reader owes, in one query, and the steps' rules then read the same rows
    waits = awaited(user, project, today)
    actions = available_steps(user, project, today)
    owed = {w.row.trigger for w in waits if w.mine}
    return Panel(owed=[a for a in actions if a.ready and a.trigger in owed],
                 other=[a for a in actions if a.ready and a.trigger not in owed],
                 blocked=[a for a in actions if not a.ready],
                 awaited=[w for w in waits if not w.mine],
                 handling=handling(user, project, waits, today))


@dataclass(frozen=True)
class Handling:
    """An agency step of the reader's role: who holds it, and whether the reader may claim
    it, release it or (a head of section) reassign it."""

    row: Deadline
    holder: str | None
    claim: bool
    release: bool
    reassign: bool


def handling(user: User, project, waits: list["Awaited"], today: date | None = None) -> list:
    if not is_agency(user):
        return []
    found = []
    for w in waits:
        if w.row.org_id is not None or w.row.role != user.organization.role:
            continue
        found.append(Handling(
            w.row, w.holder, claim=w.row.holder_id is None and w.mine,
            release=release_refusal(user, project, w.row) is None,
            reassign=is_head_for(user, w.row.role)))
    return [h for h in found if h.holder or h.claim or h.reassign]


@dataclass(frozen=True)
class Awaited:
    """A step the project waits for, as one reader sees it: who owes it, whether it is the
    reader's, and if the reader's organisation holds its role but the reader may not take it,
    why ("a colleague must check what you made", "at county level")."""

    row: Deadline
    owed_by: str
    mine: bool
    reason: str | None
    holder: str | None = None  # the officer who claimed it (认领)


def awaited(user: User, project, today: date | None = None) -> list[Awaited]:
    """What `project` waits for now, for the project page. A bank learns nothing of another
    bank's dealings (their steps are left out)."""
    if not can_see(user, project):
        return []
    org = user.organization
    deadlines, mine = deadlines_and_owed(user, project, today)
    definition = workflows().for_project(project) if project.workflow_key else None
    found = []
    for row in deadlines:
        if row.met_at is not None:
            continue
        if org.kind == OrgKind.BANK and row.org_id not in (None, org.id, project.enterprise_id):
            continue
        reason = None
        if row.id not in mine and row.org_id is None and org.role == row.role and definition:
            spec = next((s for s in definition.transitions_for(row.trigger)
                         if s.role == row.role and s.level_key == row.level), None)
            if spec is not None:
                reason = (role_denial(user, spec.role, project, spec.levels)
                          or hold_denial(user, spec, project, today)
                          or duty_denial(user, spec, project, today))
        holder = db.session.get(User, row.holder_id).display_name if row.holder_id else None
        found.append(Awaited(row, _owed_by(row), row.id in mine, reason, holder))
    return found


@dataclass(frozen=True)
class Signer:
    """One agency a joint step names: signed (when, which organisation) or awaited."""

    role: str
    owed_by: str
    signed_at: object | None
    signed_by: str | None


@dataclass(frozen=True)
class JointView:
    """A joint step (会签 all_of / 或签 any_of) the project waits for, as its page shows it."""

    trigger: str
    mode: str
    signers: list[Signer]


def joint_steps(user: User, project) -> list[JointView]:
    """Who has signed each open joint step of `project`, and who is awaited."""
    if not can_see(user, project) or project.workflow_key is None:
        return []
    found = []
    for step in open_joint_steps(workflows().for_project(project), project):
        signers = []
        for signature in step.signatures:
            by = None
            if signature.signed_at is not None:
                by = db.session.scalar(
                    select(WorkflowEvent.actor_org_name)
                    .where(WorkflowEvent.project_id == project.id,
                           WorkflowEvent.trigger == step.trigger,
                           WorkflowEvent.actor_role == signature.role)
                    .order_by(WorkflowEvent.seq.desc()).limit(1))
            signers.append(Signer(signature.role, str(ROLE_LABELS.get(signature.role,
                                                                      signature.role)),
                                  signature.signed_at, by))
        found.append(JointView(step.trigger, step.mode, signers))
    return found


def _owed_by(row: Deadline) -> str:
    if row.org_id is None:
        return str(ROLE_LABELS.get(row.role, row.role))
    return db.session.get(Organization, row.org_id).name


# Steps between one bank and a project; competitors must not learn of them.
BANK_PRIVATE = frozenset({"express_interest", "approve_credit", "sign_contract", "record_loan",
                          "claim_lead_bank", "decline_claim", "confirm_refinancing",
                          "claim_subsidy", "return_claim", "approve_subsidy", "record_payout",
                          "claw_back"})


def event_visible(user: User, event) -> bool:
    """Banks see the project's trail without other banks' dealings; everyone else sees it all
    (auditors need the whole chain to verify it)."""
    org = user.organization
    if org.kind != OrgKind.BANK or event.trigger not in BANK_PRIVATE:
        return True
    if event.actor_org_id == org.id or org.name in ((event.data or {}).get("bank"),
                                                    (event.data or {}).get("claimant")):
        return True
    return event.trigger == "confirm_refinancing" and org.id == _loan_bank(event)


def _loan_bank(event) -> int | None:
    try:
        key = uuid.UUID(str(event.data.get("loan")))
    except ValueError:
        return None
    return db.session.scalar(select(Loan.bank_id).where(
        Loan.project_id == event.project_id, Loan.public_id == key))


def own_rows(user: User, rows: list, attribute: str = "bank_id") -> list:
    """A bank sees its own rows of a project (claims, engagements, loans) and never another
    bank's figures; enterprises and agencies see all of them."""
    if user.organization.kind == OrgKind.BANK:
        return [r for r in rows if getattr(r, attribute) == user.organization_id]
    return rows


# -- who in an agency handles a step -------------------------------------------------------


def _agency_row(row) -> bool:
    return row is not None and row.met_at is None and row.org_id is None


def is_head_for(user: User, role: str) -> bool:
    """A head of section of an agency holding `role` (or that agency's administrator)."""
    return is_agency(user) and user.organization.role == role and user.is_head


def claim_refusal(user: User, project, row, today: date | None = None) -> DomainError | None:
    """An officer claims an open step of their role they owe now, held by nobody."""
    if not can_see(user, project) or not _agency_row(row):
        return NotFound(_("No such step is owed on this project."))
    owed = row.id in {owed.id for owed in owed_rows(user, project, today)}
    # held as read for the decision, or since by a colleague quicker to claim it
    holder_id = row.holder_id or db.session.scalar(select(Deadline.holder_id).where(
        Deadline.id == row.id))
    if holder_id is not None:
        holder = db.session.get(User, holder_id)
        return Conflict(_("%(name)s has already claimed this step.", name=holder.display_name))
    if not owed:
        return Forbidden(_("This step is not yours to claim."))
    return None


def release_refusal(user: User, project, row) -> DomainError | None:
    """The holder gives a step back; a head of section may too."""
    if not can_see(user, project) or not _agency_row(row):
        return NotFound(_("No such step is owed on this project."))
    if row.holder_id is None:
        return Conflict(_("Nobody has claimed this step."))
    if row.holder_id != user.id and not is_head_for(user, row.role):
        return Forbidden(_("Only the officer who claimed the step, or a head of section, "
                           "releases it."))
    return None


def reassign_refusal(user: User, project, row, target: User | None) -> DomainError | None:
    """A head of section hands an open step of their role to an officer of their agency."""
    if not can_see(user, project) or not _agency_row(row):
        return NotFound(_("No such step is owed on this project."))
    if not is_head_for(user, row.role):
        return Forbidden(_("Only a head of section reassigns steps."))
    if target is None or not target.active or target.organization_id != user.organization_id:
        return Invalid(_("Please correct the marked fields."),
                       fields={"to": _("Choose an officer of your agency.")})
    if target.id == row.holder_id:
        return Invalid(_("Please correct the marked fields."),
                       fields={"to": _("The step is already theirs.")})
    return None


def delegation_refusal(user: User, officer: User | None, deputy: User | None, starts_on: date,
                       ends_on: date, today: date) -> DomainError | None:
    """An officer names their own deputy; a head of section (or an administrator) names one
    for any officer of the agency. Officer and deputy share the organisation, hence the role."""
    if officer is None or not is_agency(officer):
        return Invalid(_("Please correct the marked fields."),
                       fields={"officer": _("Choose an officer of an agency.")})
    if not (user.is_admin or user.id == officer.id
            or (user.is_head and user.organization_id == officer.organization_id)):
        return Forbidden(_("Only the officer, a head of section of their agency or an "
                           "administrator names a deputy."))
    if deputy is None or not deputy.active or deputy.organization_id != officer.organization_id:
        return Invalid(_("Please correct the marked fields."),
                       fields={"deputy": _("Choose a colleague of the same agency.")})
    if deputy.id == officer.id:
        return Invalid(_("Please correct the marked fields."),
                       fields={"deputy": _("An officer cannot stand in for themselves.")})
    if ends_on < starts_on:
        return Invalid(_("Please correct the marked fields."),
                       fields={"ends_on": _("The end comes before the start.")})
    if ends_on < today:
        return Invalid(_("Please correct the marked fields."),
                       fields={"ends_on": _("The cover would already be over.")})
    return None


def end_delegation_refusal(user: User, delegation) -> DomainError | None:
    if delegation is None or not (user.is_admin or user.organization_id
                                  == delegation.organization_id):
        return NotFound(_("No such delegation."))
    if not (user.is_admin or user.id == delegation.officer_id
            or (user.is_head and user.organization_id == delegation.organization_id)):
        return Forbidden(_("Only the officer, a head of section of their agency or an "
                           "administrator ends a cover."))
    if delegation.ended_at is not None:
        return Conflict(_("This cover has already ended."))
    return None


# -- changing a project besides its steps --------------------------------------------------

EDITABLE = (Status.DRAFT, Status.RETURNED)
FILED_STATES = (Status.COMMITMENT_FILING, Status.FINANCING_MATCHMAKING,
                Status.LEAD_BANK_DESIGNATED)
# Once a lead bank is designated (or the project has ended) the intended banks are history.
BANKS_CLOSED = (Status.LEAD_BANK_DESIGNATED, Status.COMPLETED, Status.REJECTED, Status.WITHDRAWN)


def is_filed(project) -> bool:
    """Filed and still in the library: edits now go through a change filing."""
    return project.status in FILED_STATES and project.filed_at is not None


def owner_refusal(user: User, project) -> DomainError | None:
    """The declaring enterprise's own business (its edit form, say)."""
    if project.enterprise_id != user.organization_id:
        return Forbidden(_("Only the declaring enterprise may edit the project."))
    return None


def edit_refusal(user: User, project) -> DomainError | None:
    """Drafts and returned projects are edited freely by their enterprise; a filed project
    through a change filing; nothing else."""
    if refusal := owner_refusal(user, project):
        return refusal
    if project.status not in EDITABLE and not is_filed(project):
        return Conflict(_("Only drafts and returned projects, or filed projects through a "
                          "change filing, can be edited."))
    return None


def can_edit(user: User, project) -> bool:
    return edit_refusal(user, project) is None


def name_banks_refusal(user: User, project) -> DomainError | None:
    if project.enterprise_id != user.organization_id:
        return Forbidden(_("Only the declaring enterprise names its intended banks."))
    if project.status in BANKS_CLOSED:
        return Conflict(_("Intended banks can no longer change at this stage."))
    return None


def can_name_banks(user: User, project) -> bool:
    return name_banks_refusal(user, project) is None


def upload_refusal(user: User, project) -> DomainError | None:
    if not can_see(user, project):
        return NotFound(_("No such project."))
    org = user.organization
    if not (org.kind == OrgKind.AGENCY or project.enterprise_id == org.id):
        return Forbidden(_("Only the enterprise and the agencies handling the project add files."))
    return None


def can_upload(user: User, project) -> bool:
    return upload_refusal(user, project) is None


def delete_attachment_refusal(user: User, project, attachment) -> DomainError | None:
    """Its uploader may take a file away while the project is still theirs to change (a
    draft, or returned); once declared it is part of what the agencies review."""
    if not can_see(user, project):
        return NotFound(_("No such file."))
    if attachment.uploaded_by_id != user.id:
        return Forbidden(_("Only the person who uploaded a file may delete it."))
    if project.status not in EDITABLE:
        return Conflict(_("Files can be deleted only while the project is a draft or returned."))
    return None


def can_delete_attachment(user: User, project, attachment) -> bool:
    return delete_attachment_refusal(user, project, attachment) is None


def can_comment(user: User, project) -> bool:
    """Everyone who may see a project may join its comment thread."""
    return can_see(user, project)


def declare_refusal(user: User) -> DomainError | None:
    if user.organization.kind != OrgKind.ENTERPRISE:
        return Forbidden(_("Only enterprises declare projects."))
    return None


def designate_refusal(user: User, project) -> DomainError | None:
    """Key-list and demonstration tags are the accepting agency's (工信部门) of the project's
    place or above, on a project in the library (accepted, not exited)."""
    org = user.organization
    if org.kind != OrgKind.AGENCY or org.agency_kind is None \
            or org.agency_kind.value != "miit":
        return Forbidden(_("Only the industry and IT department designates key and "
                           "demonstration projects."))
    if not can_see(user, project):
        return NotFound(_("No such project."))
    if project.accepted_at is None or project.status in (Status.EXITED, Status.REJECTED,
                                                         Status.WITHDRAWN):
        return Conflict(_("Only a project in the library is designated."))
    return None


def can_designate(user: User, project) -> bool:
    return designate_refusal(user, project) is None


def redeclare_refusal(user: User, project) -> DomainError | None:
    """An exited project (退库) may be declared again, as a new draft, by its enterprise."""
    if user.organization_id != project.enterprise_id:
        return Forbidden(_("Only the declaring enterprise declares its project again."))
    if project.status != Status.EXITED:
        return Conflict(_("Only a project that exited the library is declared again."))
    return None


def can_redeclare(user: User, project) -> bool:
    return redeclare_refusal(user, project) is None


@dataclass(frozen=True)
class _Declarant:
    """An enterprise as the role rule sees a project of it: its place and its links."""

    enterprise_id: int
    jurisdiction_code: str

    def linked_to(self, agency_id: int) -> bool:
        return bool(db.session.scalar(select(exists().where(
            OrgLink.agency_id == agency_id, OrgLink.enterprise_id == self.enterprise_id))))


def enter_for_refusal(user: User, enterprise, jurisdiction_code: str,
                      today: date | None = None) -> DomainError | None:
    """An agency enters an enterprise's offline declarations (a batch import) only where it
    accepts that enterprise's projects into the library: it holds the role the document in
    force where the enterprise is registered gives the `accept` step, at that step's level,
    over the enterprise's place, without a link to it — and the project lies in its
    jurisdiction too."""
    org = user.organization
    if org.kind != OrgKind.AGENCY:
        return Forbidden(_("Only agencies import declarations."))
    if not org.jurisdiction.contains(jurisdiction_code):
        return Forbidden(_("The project lies outside your jurisdiction."))
    try:
        definition = workflows().resolve(enterprise.jurisdiction_code, today or china_today())
    except DomainError as err:
        return Forbidden(err.message)
    declarant = _Declarant(enterprise.id, enterprise.jurisdiction_code)
    accepting = definition.transitions_for("accept")
    if accepting and any(role_denial(user, spec.role, declarant, spec.levels) is None
                         for spec in accepting):
        return None
    return Forbidden(_("Only the agency that accepts this enterprise's projects into the "
                       "library imports its declarations."))


def baseline_refusal(user: User, code: str) -> DomainError | None:
    """A jurisdiction's growth baseline is entered by its own industry and IT department."""
    org = user.organization
    if org.role != "agency:miit" or code != org.jurisdiction_code:
        return Forbidden(_("Only the jurisdiction's own industry and IT department enters its "
                           "baseline."))
    return None


def can_set_baseline(user: User, code: str) -> bool:
    return baseline_refusal(user, code) is None


def local_setting_refusal(user: User, owner: str | None) -> DomainError | None:
    """A number the documents leave to the agencies is set by an agency of the role that
    owns it, for its own jurisdiction."""
    if not is_agency(user) or user.organization.role != owner:
        return Forbidden(_("This setting belongs to the %(role)s.",
                           role=ROLE_LABELS.get(owner, owner)))
    return None


def can_set_local(user: User, owner: str | None) -> bool:
    return local_setting_refusal(user, owner) is None


# -- the parts of the app a user reaches ---------------------------------------------------


def is_agency(user: User) -> bool:
    return user.organization.kind == OrgKind.AGENCY


def is_bank(user: User) -> bool:
    return user.organization.kind == OrgKind.BANK


def is_enterprise(user: User) -> bool:
    return user.organization.kind == OrgKind.ENTERPRISE


def can_read_reports(user: User) -> bool:
    return is_agency(user) or user.is_admin


def can_register_organizations(user: User) -> bool:
    return user.is_admin


def has_queue(user: User) -> bool:
    """Enterprises, agencies and banks owe steps; operators and administrators do not."""
    return not user.is_admin and (is_agency(user) or is_bank(user) or is_enterprise(user))


# -- the account itself ------------------------------------------------------------------


def can_enrol_two_factor(user: User) -> bool:
    """Agency and administrator accounts may enrol an authenticator; enterprise and bank
    accounts may opt in as well. The system user never signs in."""
    return bool(user.active)


def two_factor_required(user: User) -> bool:
    """Whether the user's organisation requires a second factor (等保: privileged users)."""
    return bool(user.organization.require_two_factor)


def must_enrol_two_factor(user: User) -> bool:
    """Signed in with a password alone where a second factor is required: the user may do
    nothing but enrol (or sign out) until they have."""
    return two_factor_required(user) and not user.totp_secret


def can_manage_accounts(user: User) -> bool:
    """Administrators reset passwords, (de)activate users and set an organisation's
    two-step requirement."""
    return bool(user.is_admin)


def can_disable_two_factor(user: User) -> bool:
    return bool(user.totp_secret) and not two_factor_required(user)


def sections(user: User) -> dict[str, bool]:
    """Which parts of the app the main navigation offers `user` (each route checks the same
    predicate before it answers)."""
    return {"queue": has_queue(user), "review": is_agency(user), "settings": is_agency(user),
            "delegations": is_agency(user),
            "dashboard": can_read_reports(user),
            "imports": is_agency(user), "market": is_bank(user), "loans": is_bank(user),
            "declare": is_enterprise(user), "accounts": can_manage_accounts(user)}
