"""Telling people: the enterprise hears of every decision on its project, the agencies a
step now waits for hear that it is their turn, a bank hears the decision on its claim.

An engine hook (`HOOK`, registered at start-up). Recipients are chosen by the database in
the step's own write (who is an active member of the organisation, or an agency user of the
right kind and place when the step is written), so a step costs one statement however many
people it tells. Each notification is also its e-mail's place in the outbox (`mail_state`,
pending from the moment the step writes it): the job worker sends it (app/jobs/outbox.py).
"""

from dataclasses import replace

from sqlalchemy import func, select, update

from ..database import unit_of_work
from ..extensions import db
from ..i18n import format_day
from ..i18n import gettext as _
from ..labels import step_label
from ..models import Notification, User, ancestor_codes, utcnow
from ..models.org import place_level
from ..workflow import workflows
from ..workflow.changeset import Audience, Notify
from ..workflow.hooks import Step
from ..workflow.vocabulary import (
    ATTACH,
    CREATE,
    EDIT,
    ESCALATE,
    REMIND,
    SET_INTENDED_BANKS,
    TRIGGERS,
)

# An enterprise's own housekeeping tells nobody.
QUIET = frozenset({CREATE, EDIT, SET_INTENDED_BANKS, ATTACH, REMIND, ESCALATE})


class Notifications:
    """The audit-event hook: one notification per person to tell (and so their e-mail)."""

    @staticmethod
    def writes(step: Step) -> list:
        """Each step newly owed tells those who owe it (one notification each, saying what
        was done too); the enterprise hears of every decision others took."""
        project, event, opened = step.state, step.event, step.opened
        params = {"project": project.name, "step": event.trigger, "by": event.actor_org_name,
                  "comment": event.comment or ""}
        if event.trigger in (REMIND, ESCALATE):
            return _time_limit_notice(project, event, params)
        audiences = [audience for deadline in opened if deadline.met_at is None
                     and deadline.org_id != event.actor_org_id
                     for audience in _owing(deadline, project, params)]
        if event.trigger not in QUIET and event.actor_org_id != project.enterprise_id:
            audiences.append(Audience("decision", params, org_id=project.enterprise_id))
        # (a 会签 signature before the last decides nothing for the bank yet)
        if event.trigger in ("designate_lead_bank", "decline_claim") and event.data.get("bank"):
            audiences.append(Audience("decision", params, org_name=event.data.get("bank")))
        if not audiences:
            return []
        return [Notify(project.id, event.trigger, event.created_at, event.actor_id,
                       tuple(audiences))]

    @staticmethod
    def written(step: Step, notified: list) -> None:
        """Nothing: the mail is in the outbox, which the jobs' hook rings for."""


HOOK = Notifications()


def _time_limit_notice(project, event, params: dict) -> list:
    """A reminder to those who owe the step; an escalation to the agency one level up."""
    data = event.data
    row = next(d for d in project.deadlines if (d.role, d.level, d.trigger, d.org_id)
               == (data["role"], data["level"], data["waiting"], data.get("org_id")))
    if event.trigger == REMIND:
        audiences = [replace(a, kind="reminder") for a in _owing(row, project, params)]
    else:
        audiences = [Audience("escalation", {**params, "waiting": row.trigger,
                                             "due_on": data["due_on"]},
                              codes=(data["escalated_to"],),
                              agency_kind=row.role.split(":", 1)[1])]
    return [Notify(project.id, event.trigger, event.created_at, event.actor_id,
                   tuple(audiences))] if audiences else []


def _owing(deadline, project, params: dict) -> list[Audience]:
    """Who owes a newly owed step: its organisation, or the agencies of its kind at its
    levels of the project's place — not the one who made what it checks (maker-checker),
    nor an agency linked to the enterprise."""
    waiting = {**params, "waiting": deadline.trigger,
               "due_on": deadline.due_on.isoformat() if deadline.due_on else ""}
    if deadline.org_id is not None:
        return [Audience("your_turn", waiting, org_id=deadline.org_id)]
    levels = deadline.level.split("/") if deadline.level else None
    codes = tuple(code for code in ancestor_codes(project.jurisdiction_code)
                  if levels is None or place_level(db.session, code) in levels)
    if not codes:
        return []
    return [Audience("your_turn", waiting, codes=codes, agency_kind=deadline.role.split(":", 1)[1],
                     apart=workflows().checked_apart(deadline.trigger),
                     unlinked=project.enterprise_id)]


def notification_text(kind: str, trigger: str, params: dict) -> str:
    if kind == "reminder":
        return _("Reminder: %(step)s on “%(project)s” is due %(due)s.",
                 step=TRIGGERS[params["waiting"]].label, project=params["project"],
                 due=format_day(params["due_on"]))
    if kind == "escalation":
        return _("Overdue below you: %(step)s on “%(project)s” was due %(due)s.",
                 step=TRIGGERS[params["waiting"]].label, project=params["project"],
                 due=format_day(params["due_on"]))
    if kind == "your_turn":
        waiting = TRIGGERS[params.get("waiting", trigger)].label
        if params.get("due_on"):
            return _("Waiting for you: %(step)s on “%(project)s”, due %(due)s.",
                     step=waiting, project=params["project"], due=format_day(params["due_on"]))
        return _("Waiting for you: %(step)s on “%(project)s” (%(by)s: %(done)s).",
                 step=waiting, project=params["project"], by=params.get("by", ""),
                 done=step_label(trigger))
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



def open_notification(user: User, notification_id: int) -> Notification | None:
    """The user's own notification, marked read as they open it (None: not theirs)."""
    found = db.session.scalar(select(Notification).where(
        Notification.id == notification_id, Notification.user_id == user.id))
    if found is not None and found.read_at is None:
        mark_read(user, notification_id)
    return found
