"""Revising the rules mid-flight: projects in flight moved onto a new version of their
definition (`flask workflows migrate KEY --to VERSION [--dry-run]`).

A project stays on the version it was frozen on until it is migrated. The preview says, per
project in flight, what would change where it stands: the steps it would newly owe or no
longer owe (by whom), the roles that take each step out of its status, and the time limits
of those steps. A project whose status the new version does not have is listed and left
alone. The migration is one transaction for all the projects moved — each by an audit-only
step of its own (`migrate_workflow`) through the step writer, under its version check, its
owed rows brought up to the new version — so either every listed project moves or none.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from ..database import unit_of_work
from ..extensions import db
from ..models import Project, utcnow
from ..rules.calendar import add_working_days
from .deadlines import ENDED, owed_steps, time_limit
from .definitions import Definition
from .engine import Workflows, snapshot_row
from .state import read_state
from .vocabulary import MIGRATE


@dataclass
class Plan:
    """What migrating one project would change."""

    project_id: int
    public_id: str
    name: str
    status: str
    version: int
    old: str  # "key v2"
    new: str
    counterpart: bool = True  # the new version has the project's status
    owed_added: list[str] = field(default_factory=list)  # "trigger role level"
    owed_removed: list[str] = field(default_factory=list)
    roles: dict = field(default_factory=dict)  # trigger → {"old": [...], "new": [...]}
    limits: dict = field(default_factory=dict)  # "trigger role" → {"old": days, "new": days}

    @property
    def changes(self) -> dict:
        return {"owed_added": self.owed_added, "owed_removed": self.owed_removed,
                "roles": self.roles, "limits": self.limits}

    @property
    def differs(self) -> bool:
        return any(self.changes.values())


def _owed_label(key) -> str:
    role, level, trigger, org_id = key
    who = role if org_id is None else f"{role}#{org_id}"
    return " ".join(part for part in (trigger, who, level) if part)


def _limits(definition: Definition, status: str, place: str, today: date) -> dict:
    found = {}
    for spec in definition.transitions_from(status):
        if spec.time_limit:
            found[f"{spec.trigger} {spec.role}"] = time_limit(definition, spec, place,
                                                              today).value
    return found


def _roles(definition: Definition, status: str) -> dict[str, list[str]]:
    found: dict[str, set] = {}
    for spec in definition.transitions_from(status):
        found.setdefault(spec.trigger, set()).add(spec.role)
    return {trigger: sorted(roles) for trigger, roles in found.items()}


def plan_for(state, old: Definition, new: Definition, today: date) -> Plan:
    status = state.status.value
    plan = Plan(state.id, str(state.public_id), state.name, status, state.version,
                f"{old.key} v{old.version}", f"{new.key} v{new.version}")
    if status not in new.states:
        plan.counterpart = False
        return plan
    before, after = owed_steps(old, state, today), owed_steps(new, state, today)
    plan.owed_added = sorted(_owed_label(k) for k in after.keys() - before.keys())
    plan.owed_removed = sorted(_owed_label(k) for k in before.keys() - after.keys())
    roles_old, roles_new = _roles(old, status), _roles(new, status)
    plan.roles = {t: {"old": roles_old.get(t, []), "new": roles_new.get(t, [])}
                  for t in sorted(roles_old.keys() | roles_new.keys())
                  if roles_old.get(t) != roles_new.get(t)}
    place = state.jurisdiction_code
    limits_old, limits_new = _limits(old, status, place, today), _limits(new, status, place, today)
    plan.limits = {k: {"old": limits_old.get(k), "new": limits_new.get(k)}
                   for k in sorted(limits_old.keys() | limits_new.keys())
                   if limits_old.get(k) != limits_new.get(k)}
    return plan


def in_flight(key: str, to: int, only: list[int] | None = None) -> list[int]:
    """Row ids of the projects frozen on another version of `key` that have not ended."""
    query = (select(Project.id).where(Project.workflow_key == key,
                                      Project.workflow_version != to,
                                      Project.status.not_in(list(ENDED)))
             .order_by(Project.id))
    if only is not None:
        query = query.where(Project.id.in_(only))
    return list(db.session.scalars(query))


def preview(engine: Workflows, key: str, to: int, today: date,
            only: list[int] | None = None) -> list[Plan]:
    """Per project in flight (or of those `only`), what moving it to version `to` changes."""
    new = engine.get(key, to)
    plans = []
    for project_id in in_flight(key, to, only):
        state = read_state(project_id)
        plans.append(plan_for(state, engine.for_project(state, today), new, today))
    return plans


def migrate(engine: Workflows, key: str, to: int, actor, today: date,
            only: list[int] | None = None) -> tuple[str, list[Plan]]:
    """Move the projects in flight (or those `only`) that have a counterpart onto version
    `to`, in one transaction, each by its own audit event; returns the operation's id (in
    every event) and the plans, those left alone included."""
    new = engine.get(key, to)
    operation = uuid.uuid4().hex
    plans = preview(engine, key, to, today, only)
    moving = [plan for plan in plans if plan.counterpart]
    with unit_of_work():
        for plan in moving:
            state = read_state(plan.project_id, actor)

            def change(state, changes, plan=plan):
                state.workflow_key, state.workflow_version = new.key, new.version
                changes.writes.append(snapshot_row(new, utcnow()))
                _retime(state, new, today)
                return {"workflow_from": plan.old, "workflow_to": plan.new,
                        "operation": operation, "projects": len(moving), **plan.changes}

            engine.record(state, MIGRATE, actor, version=plan.version, change=change,
                          today=today)
    return operation, plans


def _retime(state, new: Definition, today: date) -> None:
    """An open agency step the new version times differently keeps its start and the days
    used; its limit and due day follow the new version."""
    for row in state.deadlines:
        if row.met_at is not None or row.org_id is not None or row.sla_days is None:
            continue
        spec = next((s for s in new.transitions_for(row.trigger) if s.role == row.role
                     and s.level_key == row.level and state.status.value in s.sources
                     and s.time_limit), None)
        if spec is None:
            continue
        days = time_limit(new, spec, state.jurisdiction_code, today).value
        if days != row.sla_days:
            row.sla_days = days
            row.due_on = add_working_days(row.started_on, max(days - row.used_days, 0))
