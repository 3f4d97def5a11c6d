"""Who may see which project, and who may act in which role: the one place these live.

Views, the API and the engine all ask here; nothing re-codes these rules.
"""

import uuid

from sqlalchemy import Select, exists, false, or_, select, true
from sqlalchemy.orm import aliased

from ..extensions import db
from ..i18n import gettext as _
from ..labels import LEVEL_LABELS, ROLE_LABELS, join_list, step_label
from ..models import (
    BankClaim,
    Level,
    ListEntry,
    Loan,
    OrgKind,
    Project,
    Status,
    User,
    WorkflowEvent,
)
from ..models.org import LEVEL_PREFIX


def within(jurisdiction):
    """SQL condition: the project lies in `jurisdiction` or below (indexed columns)."""
    digits = LEVEL_PREFIX[jurisdiction.level]
    if digits == 0:
        return true()
    column = {2: Project.province_code, 4: Project.city_code, 6: Project.jurisdiction_code}[digits]
    return column == jurisdiction.code


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
        # Aliases, so that the subqueries correlate with projects only, even inside queries
        # that select from these tables too (a bank's loan book).
        entry, claim, loan = aliased(ListEntry), aliased(BankClaim), aliased(Loan)
        listed = exists().where(entry.project_id == Project.id)
        involved = or_(
            Project.lead_bank_id == org.id,
            exists().where(claim.project_id == Project.id, claim.bank_id == org.id),
            exists().where(loan.project_id == Project.id, loan.bank_id == org.id),
        )
        return (served & listed) | involved
    return false()


def visible_projects(user: User) -> Select:
    return select(Project).where(visible_condition(user))


def can_see(user: User, project: Project) -> bool:
    org = user.organization
    if user.is_admin or org.kind == OrgKind.OPERATOR:
        return True
    if org.kind == OrgKind.ENTERPRISE:
        return project.enterprise_id == org.id
    if org.kind == OrgKind.AGENCY:
        return project.status != Status.DRAFT and org.jurisdiction.contains(project.jurisdiction_code)
    return bool(db.session.scalar(
        select(visible_condition(user)).select_from(Project).where(Project.id == project.id)))


def role_denial(user: User, role: str, project: Project,
                levels: tuple[Level, ...] = ()) -> str | None:
    """Why `user` cannot act as `role` on `project` (None when they can).

    Checks the role and, for the role, the relation to the project: its enterprise, a bank
    serving its jurisdiction, its lead bank, or an agency whose jurisdiction contains it.
    """
    org = user.organization
    if role == "enterprise":
        if org.kind == OrgKind.ENTERPRISE and project.enterprise_id == org.id:
            return None
        return _("Only the declaring enterprise may do this.")
    if role == "bank":
        if org.kind == OrgKind.BANK and org.serves(project.jurisdiction_code):
            return None
        return _("Only a bank serving the project's region may do this.")
    if role == "lead_bank":
        if org.kind == OrgKind.BANK and project.lead_bank_id == org.id:
            return None
        return _("Only the project's lead bank may do this.")
    wanted = ROLE_LABELS.get(role, role)
    if org.role != role:
        return _("This step belongs to the %(role)s.", role=wanted)
    if project.linked_to(org.id):
        return _("Your organisation is linked to this enterprise; another agency must act "
                 "(conflict of interest).")
    if not org.jurisdiction.contains(project.jurisdiction_code):
        return _("The project lies outside your jurisdiction.")
    if levels and org.jurisdiction.level not in levels:
        return _("This step belongs to the %(role)s at %(level)s level.", role=wanted,
                 level=join_list(LEVEL_LABELS[level] for level in levels))
    return None


# Steps between one bank and a project; competitors must not learn of them.
BANK_PRIVATE = frozenset({"express_interest", "approve_credit", "sign_contract", "record_loan",
                          "claim_lead_bank", "decline_claim", "confirm_refinancing"})


def event_visible(user: User, event) -> bool:
    """Banks see the project's trail without other banks' dealings; everyone else sees it all
    (auditors need the whole chain to verify it)."""
    org = user.organization
    if org.kind != OrgKind.BANK or event.trigger not in BANK_PRIVATE:
        return True
    if event.actor_org_id == org.id or (event.data or {}).get("bank") == org.name:
        return True
    return event.trigger == "confirm_refinancing" and org.id == _loan_bank(event)


def _loan_bank(event) -> int | None:
    return db.session.scalar(select(Loan.bank_id).where(
        Loan.project_id == event.project_id, Loan.public_id == _uuid(event.data.get("loan"))))


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def duty_denial(user: User, spec, project: Project) -> str | None:
    """Maker-checker: who fired one of `spec.distinct_from` on the project may not fire it."""
    if not spec.distinct_from or project.id is None:
        return None
    done = db.session.scalar(select(WorkflowEvent.trigger).where(
        WorkflowEvent.project_id == project.id, WorkflowEvent.actor_id == user.id,
        WorkflowEvent.trigger.in_(spec.distinct_from)).limit(1))
    if done is None:
        return None
    return _("Separation of duties: you took the step “%(done)s” on this project, so a "
             "colleague must take this one.", done=step_label(done))
