"""Who in an agency handles a step: claiming an owed step from the role's shared queue
(认领), releasing it (释放), a head of section reassigning it (转办), and an officer's cover
while away (职务代理). Claims are audit-only steps through the engine, so a claim, a release
and a reassignment each leave an event and exactly one of concurrent claims wins (the step
writer's version check); delegations are the officers' own records, logged.
"""

from datetime import date

from sqlalchemy import func, select

from .. import access
from ..accounts.security import log_event
from ..database import unit_of_work
from ..errors import Invalid, NotFound
from ..extensions import db
from ..i18n import gettext as _
from ..models import Deadline, Delegation, User, WorkflowEvent, china_today, utcnow
from ..projects.operations import MAX_ID
from ..workflow import workflows
from ..workflow.vocabulary import CLAIM, REASSIGN, RELEASE

ACTIONS = ("claim", "release", "reassign")


def step_key(step_id: str, action: str) -> int:
    """A step's row id and an action on it, as a URL gives them (404 when they are none)."""
    if action not in ACTIONS or not step_id.isdigit() or len(step_id) > 10 \
            or int(step_id) > MAX_ID:
        raise NotFound(_("No such step is owed on this project."))
    return int(step_id)


def _row(state, deadline_id: int):
    return next((row for row in state.deadlines if row.id == deadline_id), None)


def _owed_on(project, deadline_id: int) -> None:
    """A step the project does not wait for is none (404), whatever version was seen."""
    if db.session.scalar(select(Deadline.id).where(
            Deadline.id == deadline_id, Deadline.project_id == project.id,
            Deadline.met_at.is_(None), Deadline.org_id.is_(None))) is None:
        raise NotFound(_("No such step is owed on this project."))


def claim(user: User, project, deadline_id: int, *, version: int | None = None,
          today: date | None = None):
    """`user` takes the owed step for themselves; others in the role see it as theirs."""
    _owed_on(project, deadline_id)
    def change(state, _changes):
        row = _row(state, deadline_id)
        if refusal := access.claim_refusal(user, state, row, today):
            raise refusal
        row.holder_id, row.held_since = user.id, utcnow()
        return {"step": row.trigger, "holder": user.display_name}
    return workflows().record(project, CLAIM, user, version=version, change=change, today=today)


def release(user: User, project, deadline_id: int, *, version: int | None = None,
            today: date | None = None):
    """The holder (or a head of section) gives the step back to the role's shared queue."""
    _owed_on(project, deadline_id)
    def change(state, _changes):
        row = _row(state, deadline_id)
        if refusal := access.release_refusal(user, state, row):
            raise refusal
        holder = db.session.get(User, row.holder_id)
        row.holder_id, row.held_since = None, None
        return {"step": row.trigger, "holder": holder.display_name}
    return workflows().record(project, RELEASE, user, version=version, change=change, today=today)


def reassign(user: User, project, deadline_id: int, to_username: str, reason: str, *,
             version: int | None = None, today: date | None = None):
    """A head of section hands the step to another officer of the organisation, saying why."""
    _owed_on(project, deadline_id)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Please correct the marked fields."),
                      fields={"reason": _("Say why the step is reassigned.")})
    target = db.session.scalar(select(User).where(User.username == (to_username or "").strip()))

    def change(state, _changes):
        row = _row(state, deadline_id)
        if refusal := access.reassign_refusal(user, state, row, target):
            raise refusal
        before = db.session.get(User, row.holder_id) if row.holder_id else None
        row.holder_id, row.held_since = target.id, utcnow()
        return {"step": row.trigger, "holder": target.display_name,
                "previous_holder": before.display_name if before else None, "reason": reason}
    return workflows().record(project, REASSIGN, user, version=version, change=change,
                              today=today)


def user_named(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == (username or "").strip()))


def delegation(delegation_id: int) -> Delegation | None:
    return db.session.get(Delegation, delegation_id)


def colleagues(user: User) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.organization_id == user.organization_id, User.active.is_(True),
        User.id != user.id).order_by(User.display_name)))


# -- cover while away (职务代理) -------------------------------------------------------------


def create_delegation(actor: User, officer: User | None, deputy: User | None, starts_on: date,
                      ends_on: date, reason: str | None = None,
                      today: date | None = None) -> Delegation:
    if refusal := access.delegation_refusal(actor, officer, deputy, starts_on, ends_on,
                                            today or china_today()):
        raise refusal
    with unit_of_work():
        delegation = Delegation(organization_id=officer.organization_id, officer_id=officer.id,
                                deputy_id=deputy.id, starts_on=starts_on, ends_on=ends_on,
                                reason=(reason or "").strip()[:200] or None,
                                created_by_id=actor.id, created_at=utcnow())
        db.session.add(delegation)
    log_event("delegation_created", user=actor, detail=(
        f"{deputy.username} for {officer.username} {starts_on.isoformat()}..{ends_on.isoformat()}"))
    return delegation


def end_delegation(actor: User, delegation: Delegation | None) -> Delegation:
    if refusal := access.end_delegation_refusal(actor, delegation):
        raise refusal
    with unit_of_work():
        delegation.ended_at = utcnow()
    log_event("delegation_ended", user=actor, detail=(
        f"{delegation.deputy.username} for {delegation.officer.username}"))
    return delegation


def delegations_of(user: User) -> list[Delegation]:
    """The delegations of the user's organisation (all of them for a head or an
    administrator, else the user's own, as officer or deputy), newest first."""
    query = select(Delegation).order_by(Delegation.starts_on.desc(), Delegation.id.desc())
    if not user.is_admin:
        query = query.where(Delegation.organization_id == user.organization_id)
        if not user.is_head:
            query = query.where((Delegation.officer_id == user.id)
                                | (Delegation.deputy_id == user.id))
    return list(db.session.scalars(query.limit(200)))


def in_force(delegation: Delegation, today: date) -> bool:
    return (delegation.ended_at is None
            and delegation.starts_on <= today <= delegation.ends_on)


# -- per officer --------------------------------------------------------------------------


def officer_counts(user: User, today: date) -> list[dict]:
    """Per officer of the user's agency: the steps they hold now and the steps they took;
    for a head of section also the working time their held steps have waited (days)."""
    if not access.is_agency(user):
        return []
    people = list(db.session.scalars(select(User).where(
        User.organization_id == user.organization_id, User.active.is_(True))
        .order_by(User.display_name)))
    held = dict(db.session.execute(select(Deadline.holder_id, func.count()).where(
        Deadline.met_at.is_(None), Deadline.holder_id.in_([p.id for p in people]))
        .group_by(Deadline.holder_id)).all())
    since = dict(db.session.execute(select(Deadline.holder_id, func.min(Deadline.held_since))
                                    .where(Deadline.met_at.is_(None),
                                           Deadline.holder_id.in_([p.id for p in people]))
                                    .group_by(Deadline.holder_id)).all())
    taken = dict(db.session.execute(select(WorkflowEvent.actor_id, func.count()).where(
        WorkflowEvent.actor_id.in_([p.id for p in people]),
        WorkflowEvent.trigger.notin_([CLAIM, RELEASE, REASSIGN]),
        WorkflowEvent.from_state.is_not(None))
        .group_by(WorkflowEvent.actor_id)).all())
    rows = []
    for person in people:
        row = {"name": person.display_name, "held": held.get(person.id, 0),
               "taken": taken.get(person.id, 0)}
        if user.is_head and since.get(person.id):
            row["oldest_days"] = (today - since[person.id].date()).days
        rows.append(row)
    return rows
