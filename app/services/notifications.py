"""Telling people: the enterprise hears of every decision on its project, the agencies a
step now waits for hear that it is their turn, a bank hears the decision on its claim."""

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..database import unit_of_work
from ..extensions import db
from ..labels import step_label
from ..models import (
    AgencyKind,
    Jurisdiction,
    Notification,
    Organization,
    OrgKind,
    Project,
    User,
    WorkflowEvent,
    ancestor_codes,
    utcnow,
)
from ..workflow.vocabulary import CREATE, EDIT, SET_INTENDED_BANKS, TRIGGERS
from .mail import queue_mail

QUIET = frozenset({CREATE, EDIT, SET_INTENDED_BANKS})


def on_event(project: Project, event: WorkflowEvent, opened: list) -> None:
    """Called for every audit event, inside its transaction, with the deadlines it opened."""
    if event.trigger in QUIET:
        return
    params = {"project": project.name, "step": event.trigger, "by": event.actor_org_name,
              "comment": event.comment or ""}
    recipients: dict[int, tuple[User, str]] = {}
    if event.actor_org_id != project.enterprise_id:
        for user in _users(Organization.id == project.enterprise_id):
            recipients[user.id] = (user, "decision")
    if event.trigger in ("designate_lead_bank", "decline_claim"):
        claimant = event.data.get("bank")
        for user in _users(Organization.name == claimant):
            recipients[user.id] = (user, "decision")
    for deadline in opened:
        if deadline.met_at is None:
            params["due_on"] = deadline.due_on.isoformat()
            params["waiting"] = deadline.trigger
            for user in _agency_users(project, deadline.role, deadline.level):
                recipients.setdefault(user.id, (user, "your_turn"))
    for user, kind in recipients.values():
        if user.id == event.actor_id:
            continue
        db.session.add(Notification(user_id=user.id, project_id=project.id, kind=kind,
                                    trigger=event.trigger, params=params, created_at=event.created_at))
        if user.email:
            with force_locale("zh_CN"):  # mail goes out in the default language
                text = notification_text(kind, event.trigger, params)
                queue_mail(user.email, text, "\n\n".join(filter(None, [text, event.comment])))


def _users(condition):
    return db.session.scalars(select(User).join(Organization).where(condition, User.active))


def _agency_users(project: Project, role: str, level: str):
    kind = AgencyKind(role.split(":", 1)[1])
    condition = (Organization.kind == OrgKind.AGENCY) & (Organization.agency_kind == kind) & (
        Organization.jurisdiction_code.in_(ancestor_codes(project.jurisdiction_code)))
    if level:
        condition &= Organization.jurisdiction_code.in_(
            select(Jurisdiction.code).where(Jurisdiction.level.in_(level.split("/"))))
    return _users(condition)


def notification_text(kind: str, trigger: str, params: dict) -> str:
    if kind == "your_turn":
        return _("Waiting for you: %(step)s on “%(project)s”, due %(due)s.",
                 step=TRIGGERS[params.get("waiting", trigger)].label, project=params["project"],
                 due=params.get("due_on", ""))
    return _("%(by)s: %(step)s — “%(project)s”.", by=params["by"], step=step_label(trigger),
             project=params["project"])


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)))


def inbox(user: User, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id.desc()).limit(limit)))


def mark_read(user: User, notification_id: int | None = None) -> None:
    with unit_of_work():
        condition = (Notification.user_id == user.id) & Notification.read_at.is_(None)
        if notification_id is not None:
            condition &= Notification.id == notification_id
        db.session.execute(update(Notification).where(condition).values(read_at=utcnow()))

