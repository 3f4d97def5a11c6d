"""Who may see which project, and who may act in which role: the one place these live.

Views, the API and the engine all ask here; nothing re-codes these rules.
"""

from flask_babel import gettext as _
from sqlalchemy import Select, exists, false, or_, select, true

from ..extensions import db
from ..labels import LEVEL_LABELS, ROLE_LABELS, join_list
from ..models import BankClaim, Level, ListEntry, Loan, OrgKind, Project, Status, User
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
        listed = exists().where(ListEntry.project_id == Project.id)
        involved = or_(
            Project.lead_bank_id == org.id,
            exists().where(BankClaim.project_id == Project.id, BankClaim.bank_id == org.id),
            exists().where(Loan.project_id == Project.id, Loan.bank_id == org.id),
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
    if not org.jurisdiction.contains(project.jurisdiction_code):
        return _("The project lies outside your jurisdiction.")
    if levels and org.jurisdiction.level not in levels:
        return _("This step belongs to the %(role)s at %(level)s level.", role=wanted,
                 level=join_list(LEVEL_LABELS[level] for level in levels))
    return None
