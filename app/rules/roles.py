"""Who holds a definition's role on a project: the rule the engine applies to every step.

A definition names a role for each step (`enterprise`, `bank`, `lead_bank`, `agency:<kind>`,
perhaps fixed to levels) and may keep two steps apart (`distinct_from`, maker-checker). These
say, for one user and one project, why the user does not hold the role (None when they do).
Every "may this user …" question of the app is answered in `app.access`, which builds on
these for the steps.
"""

from datetime import date

from sqlalchemy import or_, select

from ..extensions import db
from ..i18n import gettext as _
from ..labels import LEVEL_LABELS, ROLE_LABELS, join_list, step_label
from ..models import Delegation, Level, OrgKind, User, WorkflowEvent, china_today


def _in_force(today: date):
    return ((Delegation.starts_on <= today) & (Delegation.ends_on >= today)
            & Delegation.ended_at.is_(None))


def covered(user, today: date | None = None) -> set[int]:
    """The officers `user` stands in for today (职务代理): a delegation in force ends by
    itself after its last day."""
    if user.organization.kind != OrgKind.AGENCY:
        return set()
    return set(db.session.scalars(select(Delegation.officer_id).where(
        Delegation.deputy_id == user.id, _in_force(today or china_today()))))


def one_person(user, today: date | None = None) -> set[int]:
    """Who counts as `user` for maker-checker today: themselves, the officers they stand in
    for and the deputies standing in for them."""
    return one_person_and_covered(user, today)[0]


def one_person_and_covered(user, today: date | None = None) -> tuple[set[int], set[int]]:
    """`one_person` and `covered` together, read with one query (a queue asks both)."""
    if user.organization.kind != OrgKind.AGENCY:
        return {user.id}, set()
    rows = db.session.execute(select(Delegation.officer_id, Delegation.deputy_id).where(
        or_(Delegation.deputy_id == user.id, Delegation.officer_id == user.id),
        _in_force(today or china_today()))).all()
    return ({user.id, *(person for row in rows for person in row)},
            {officer for officer, deputy in rows if deputy == user.id})


def hold_denial(user, spec, project, today: date | None = None) -> str | None:
    """An owed step an officer claimed is theirs (and their deputy's): a colleague may not
    take it until it is released or reassigned."""
    holder = next((row.holder_id for row in project.deadlines
                   if row.met_at is None and row.org_id is None and row.trigger == spec.trigger
                   and row.role == spec.role and row.level == spec.level_key), None)
    if holder is None or holder == user.id or holder in covered(user, today):
        return None
    name = db.session.scalar(select(User.display_name).where(User.id == holder))
    return _("%(name)s has claimed this step; they, or a head of section reassigning it, "
             "decide on it.", name=name)


def role_denial(user, role: str, project, levels: tuple[Level, ...] = ()) -> str | None:
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


def duty_denial(user, spec, project, today: date | None = None) -> str | None:
    """Maker-checker: who fired one of `spec.distinct_from` on the project may not fire it —
    a deputy and the officer they stand in for count as one person."""
    if not spec.distinct_from or project.id is None:
        return None
    people = one_person(user, today)
    done = db.session.scalar(select(WorkflowEvent.trigger).where(
        WorkflowEvent.project_id == project.id,
        or_(WorkflowEvent.actor_id.in_(people), WorkflowEvent.on_behalf_of_id.in_(people)),
        WorkflowEvent.trigger.in_(spec.distinct_from)).limit(1))
    if done is None:
        return None
    return _("Separation of duties: you took the step “%(done)s” on this project, so a "
             "colleague must take this one.", done=step_label(done))
