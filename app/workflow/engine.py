"""The workflow engine: the one place a project's status changes.

One `transitions` machine per definition is built at start-up. Firing a trigger checks, in
order: the project is visible to the actor (else 404), the version the actor saw is current
(else 409), the trigger is possible from the current state (else 409), the actor holds the
role the definition names, in the project's jurisdiction (else 403), required inputs are
given (else 422), every guard passes (else 422 with the reasons).

The step is decided on a `ProjectState` read by one query, and everything it writes — the
project's new values, its audit event, stay, deadlines, rollup deltas, notifications and an
effect's rows — is composed as a `ChangeSet` before anything is written. The writer makes it
one atomic change guarded by a conditional UPDATE on the version the actor saw: the
serialisation point between concurrent actors (on PostgreSQL one statement, see changeset).
"""

from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Protocol

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from transitions import EventData, Machine

from ..database import step_transaction
from ..errors import Conflict, DomainError, Forbidden, GuardFailed, Invalid, NotFound
from ..extensions import db
from ..i18n import gettext as _
from ..labels import STATUS_LABELS
from ..models import (
    DefinitionSnapshot,
    EquipmentItem,
    Project,
    Status,
    User,
    WorkflowEvent,
    ancestor_codes,
    china_today,
    utcnow,
)
from ..rules import BRANCHES, GUARDS, RuleContext
from ..services import stats
from ..services.access import can_see, duty_denial, role_denial
from ..validation import jsonable, validation_fields
from .audit import GENESIS, event_hash
from .changeset import ChangeSet, Delete, Insert, column_values, row_values, run, write
from .deadlines import close_stay, deadline_writes, reschedule
from .definitions import Definition, TransitionSpec, parse_text
from .effects import EFFECTS
from .state import ProjectState, read_state
from .vocabulary import TRIGGERS


@dataclass
class Attempt(RuleContext):
    """One try at firing a trigger: the rule context plus what the checks found.

    A trigger may have alternatives (by branch condition, or by role where several
    departments may act); the refusal reported is that of an alternative whose role the
    actor holds, else the first role denial.
    """

    considered: TransitionSpec | None = None  # an alternative whose branch condition held
    permitted: TransitionSpec | None = None  # an alternative whose role the actor holds
    chosen: TransitionSpec | None = None
    denials: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Available:
    """A trigger the user holds the role for, and whether its guards currently pass."""

    trigger: str
    label: str
    spec: TransitionSpec
    ready: bool
    reasons: list[str]

    @property
    def requires(self) -> tuple[str, ...]:
        return self.spec.requires


def _admissible(spec: TransitionSpec, event) -> bool:
    attempt: Attempt = event.kwargs["ctx"]
    if spec.when and not BRANCHES[spec.when](attempt):
        return False
    attempt.considered = spec
    denial = (role_denial(attempt.actor, spec.role, attempt.project, spec.levels)
              or duty_denial(attempt.actor, spec, attempt.project))
    if denial:
        attempt.denials.append(denial)
        return False
    attempt.permitted = spec
    attempt.acting_role = spec.role
    if not attempt.probing:
        given = {**attempt.data, "comment": attempt.comment}
        attempt.missing = [key for key in spec.requires if given.get(key) in (None, "")]
        if attempt.missing:
            return False
    attempt.reasons = [reason for name in spec.guards if (reason := GUARDS[name](attempt))]
    return not attempt.reasons


class Workflows:
    """All loaded definitions, by key and version, with their machines."""

    def __init__(self, definitions: list[Definition]):
        self.definitions = {(d.key, d.version): d for d in definitions}
        self.frozen: dict[tuple[str, int], Definition] = {}  # loaded from snapshots
        self._machines = {ident: self._build(d) for ident, d in self.definitions.items()}

    @staticmethod
    def _build(definition: Definition) -> Machine:
        return Machine(
            model=None,
            states=list(definition.states),
            transitions=[{
                "trigger": spec.trigger,
                "source": list(spec.sources),
                "dest": spec.dest,
                "conditions": [partial(_admissible, spec)],
            } for spec in definition.transitions],
            initial=Status.DRAFT.value,
            auto_transitions=False,
            send_event=True,
        )

    # -- choosing a definition -------------------------------------------------------------

    def get(self, key: str, version: int) -> Definition:
        """A definition by key and version — from the files, or for a version no longer on
        disk, from the snapshot taken when a project was first frozen on it."""
        ident = (key, version)
        if ident not in self.definitions:
            snapshot = db.session.get(DefinitionSnapshot, ident)
            if snapshot is None:
                raise KeyError(ident)
            definition = parse_text(snapshot.source_text, Path(f"{key}@v{version} (snapshot)"))
            self._machines[ident] = self._build(definition)
            self.frozen[ident] = definition
            return definition
        return self.definitions[ident]

    def latest(self, key: str) -> Definition:
        return max((d for d in self.definitions.values() if d.key == key), key=lambda d: d.version)

    def resolve(self, jurisdiction_code: str, on: date) -> Definition:
        """The most specific definition whose jurisdiction contains the place, in force on `on`.

        Where the most specific document has lapsed, declaring is refused rather than
        silently falling back to a broader one.
        """
        for code in ancestor_codes(jurisdiction_code):
            candidates = [d for d in self.definitions.values() if d.jurisdiction == code]
            if not candidates:
                continue
            in_force = [d for d in candidates if d.in_force(on)]
            if in_force:
                return max(in_force, key=lambda d: (d.effective, d.version))
            newest = max(candidates, key=lambda d: (d.effective, d.version))
            if newest.expires and on > newest.expires:
                raise Invalid(_("%(document)s (%(title)s) expired on %(date)s; no declarations "
                                "are accepted under it.", document=newest.document,
                                title=newest.title, date=newest.expires.isoformat()),
                              fields={"jurisdiction": _("No policy document in force here.")})
        raise Invalid(_("No policy document is in force for this location on %(date)s.",
                        date=on.isoformat()), fields={"jurisdiction": _("No policy document.")})

    def for_project(self, project: Project, today: date | None = None) -> Definition:
        if project.workflow_key is None:  # a draft: the definition is chosen when declared
            return self.resolve(project.jurisdiction_code, today or china_today())
        ident = (project.workflow_key, project.workflow_version)
        return self.definitions.get(ident) or self.frozen.get(ident) or self.get(*ident)

    # -- firing ------------------------------------------------------------------------------

    def _passing(self, definition: Definition, attempt: Attempt, trigger: str) -> str | None:
        """The state `trigger` leads to from the project's status for this attempt, or None.

        The machine gives the trigger's transitions out of the status, in the definition's
        order; the first whose conditions pass is taken. Nothing is moved: the change is
        written from the step's change set."""
        machine = self._machines[(definition.key, definition.version)]
        status = attempt.project.status.value
        event = EventData(None, None, machine, None, (), {"ctx": attempt})
        for transition in machine.get_transitions(trigger=trigger, source=status):
            if all(condition.check(event) for condition in transition.conditions):
                attempt.chosen = attempt.permitted
                return transition.dest or status
        return None

    def available_triggers(self, project, user, today: date | None = None) -> list[Available]:
        """Triggers `user` holds the role for in the project's current state."""
        if not can_see(user, project):
            return []
        try:
            definition = self.for_project(project, today)
        except Invalid:
            return []
        machine = self._machines[(definition.key, definition.version)]
        found = []
        for trigger in machine.get_triggers(project.status.value):
            attempt = Attempt(project=project, actor=user, definition=definition,
                              today=today or china_today(), probing=True)
            ready = self._passing(definition, attempt, trigger) is not None
            if attempt.permitted:
                found.append(Available(trigger, str(TRIGGERS[trigger].label),
                                       attempt.permitted, ready, attempt.reasons))
        return found

    def fire(self, project: Project | ProjectState, trigger: str, actor, *, version: int,
             comment: str | None = None, data: dict | None = None,
             today: date | None = None) -> ProjectState:
        """Fire `trigger` on `project` for `actor`: one transaction with its audit event.

        `project` is the ORM object a page loaded (it is read again, as the decision needs
        it, and expired afterwards) or a `ProjectState` read for this call. Returns the
        project's state after the step."""
        today = today or china_today()
        state = project if isinstance(project, ProjectState) else read_state(project.id, actor)
        if state is None or not can_see(actor, state):
            raise NotFound(_("No such project."))
        if trigger not in TRIGGERS:
            raise Invalid(_("Unknown step."), fields={"trigger": _("Unknown step.")})
        if version != state.version:
            raise Conflict(_("The project changed since you loaded it (version %(seen)s, now "
                             "%(now)s); reload and try again.", seen=version, now=state.version))
        definition = self.for_project(state, today)
        attempt = Attempt(project=state, actor=actor, definition=definition, today=today,
                          data=self._inputs(trigger, data), comment=comment or None)
        try:
            dest = self._run_machine(definition, attempt, trigger)
        except DomainError:
            # Checks ran against a project someone may have changed meanwhile (another
            # transaction committed after we read it): then the answer is "acted first".
            if _current_version(state.id) != version:
                raise Conflict(_("Someone else acted on this project first; reload.")) from None
            raise
        changes = compose(state, definition, attempt, trigger, dest, today)
        try:
            with step_transaction() as connection:
                written = write(connection, changes)
                if not written.moved:
                    raise Conflict(_("Someone else acted on this project first; reload."))
                for hook in EVENT_HOOKS:
                    hook.written(written.notified, state, changes.event)
        except IntegrityError as err:  # a unique index saw a concurrent winner
            raise Conflict(_("Someone else acted on this project first; reload.")) from err
        state.applied(version=version + 1, updated_at=changes.project["updated_at"])
        if isinstance(project, Project):
            db.session.expire(project)
        return state

    @staticmethod
    def _inputs(trigger: str, data: dict | None) -> dict:
        try:
            parsed = TRIGGERS[trigger].data.model_validate(data or {})
        except ValidationError as err:
            raise Invalid(_("The step's data is not valid."),
                          fields=validation_fields(err, prefix="data.")) from err
        return {k: v for k, v in parsed.model_dump().items() if v is not None}

    def _run_machine(self, definition: Definition, attempt: Attempt, trigger: str) -> str:
        status = attempt.project.status
        dest = self._passing(definition, attempt, trigger)
        if dest is not None:
            return dest
        if attempt.considered is None:
            raise Conflict(_("“%(step)s” is not possible while the project is “%(status)s”.",
                             step=TRIGGERS[trigger].label, status=STATUS_LABELS[status]))
        if attempt.permitted is None:
            raise Forbidden(attempt.denials[0])
        if attempt.missing:
            fields = {("comment" if k == "comment" else f"data.{k}"): _("Required for this step.")
                      for k in attempt.missing}
            raise Invalid(_("Required input is missing: %(keys)s.",
                            keys=", ".join(attempt.missing)), fields=fields)
        raise GuardFailed(" ".join(attempt.reasons), reasons=attempt.reasons)


def _current_version(project_id: int) -> int:
    return db.session.execute(select(Project.version).where(Project.id == project_id)).scalar_one()


def compose(state: ProjectState, definition: Definition, attempt: Attempt, trigger: str,
            dest: str, today: date) -> ChangeSet:
    """Everything the step writes, decided before anything is written."""
    now = utcnow()
    source = state.status
    changes = ChangeSet(state.id, state.version, project={})
    effect = EFFECTS.get(trigger)
    snapshot = {**jsonable(attempt.data), **(effect(attempt, now, changes) if effect else {})}
    if dest != source:
        state.status = Status(dest)
        state.status_changed_at = now
        changes.extend(close_stay(state, source, now))
    if source == Status.DRAFT:  # declaring freezes the definition and version
        state.workflow_key = definition.key
        state.workflow_version = definition.version
        changes.writes.append(snapshot_row(definition, now))
    opened = reschedule(state, definition, source, attempt.chosen, today, now)
    row = event_row(state, state.version + 1, trigger, source, state.status, attempt.actor,
                    clause=attempt.chosen.clause, comment=attempt.comment, data=snapshot,
                    at=now, previous=state.last_hash)
    changes.writes.append(Insert(WorkflowEvent.__table__, row))
    changes.event = event = SimpleNamespace(**row)
    for hook in EVENT_HOOKS:
        changes.extend(hook.writes(state, event, opened))
    changes.extend(deadline_writes(state))
    changes.extend(stats.tallies(state.id, state.values(before=True), state.values(before=False)))
    changes.project = column_values(Project, {**state.changes, "version": state.version + 1,
                                              "updated_at": now})
    if state.new_equipment is not None:
        changes.extend(equipment_writes(state))
    return changes


def advance(project: Project, expected_version: int, now, **values) -> None:
    """Bump the project's version with a conditional UPDATE on the version the actor saw.

    The row lock this takes is what serialises concurrent actors: the second waits, then
    finds the version moved on and gets a 409. The change itself (status, effects) follows
    in the same transaction, in one UPDATE, so row constraints see it whole.
    """
    values.update(version=expected_version + 1, updated_at=now)
    result = db.session.execute(
        update(Project).where(Project.id == project.id, Project.version == expected_version)
        .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(_("Someone else acted on this project first; reload."))
    for name, value in values.items():
        set_committed_value(project, name, value)


def event_row(project, seq: int, trigger: str, source: Status | None, dest: Status, actor, *,
              clause: str | None, comment: str | None, data: dict, at,
              previous: str | None) -> dict:
    """The columns of the audit event numbered `seq` (the project's version after the
    change), chained to the hash of event `seq - 1`."""
    if seq == 1:
        previous = GENESIS
    if previous is None:
        raise RuntimeError(f"audit trail of project {project.id} lacks event {seq - 1}")
    org = actor.organization
    row = {"project_id": project.id, "seq": seq, "trigger": trigger,
           "from_state": source.value if source else None, "to_state": dest.value,
           "workflow_key": project.workflow_key, "workflow_version": project.workflow_version,
           "clause": clause, "actor_id": actor.id, "actor_name": actor.display_name,
           "actor_role": actor.role, "actor_org_id": org.id, "actor_org_name": org.name,
           "comment": comment, "data": data, "created_at": at, "prev_hash": previous}
    row["hash"] = event_hash(SimpleNamespace(**row), project.public_id)
    return row


def record_event(project: Project, trigger: str, source: Status | None, dest: Status,
                 actor: User, *, clause: str | None, comment: str | None, data: dict,
                 at, opened=()) -> WorkflowEvent:
    """Append the audit event for a change made through the ORM (a declaration, an edit, a
    change request) that brought `project` to its current version; `opened` are the
    deadlines the change opened, for the hooks (notifications)."""
    seq = project.version
    previous = None if seq == 1 else db.session.scalar(
        select(WorkflowEvent.hash).where(WorkflowEvent.project_id == project.id,
                                         WorkflowEvent.seq == seq - 1))
    event = WorkflowEvent(**event_row(project, seq, trigger, source, dest, actor, clause=clause,
                                      comment=comment, data=data, at=at, previous=previous))
    db.session.add(event)
    writes = [(hook, hook.writes(project, event, list(opened))) for hook in EVENT_HOOKS]
    if any(w for _hook, w in writes):
        db.session.flush()
        for hook, hook_writes in writes:
            hook.written(run(db.session.connection(), hook_writes), project, event)
    return event


class EventHook(Protocol):
    """What else an audit event writes (in its transaction), and what follows once written."""

    def writes(self, project, event: WorkflowEvent, opened: list) -> list: ...

    def written(self, notified: list, project, event: WorkflowEvent) -> None: ...


# Hooks for every audit event (notifications), registered by the app.
EVENT_HOOKS: list[EventHook] = []


def snapshot_row(definition: Definition, now) -> Insert:
    """The definition's text, stored once: the first time a project is frozen on it."""
    return Insert(DefinitionSnapshot.__table__, {
        "key": definition.key, "version": definition.version, "sha256": definition.sha256,
        "source_text": definition.text, "first_used_at": now}, if_absent=True)


def equipment_writes(state: ProjectState) -> list:
    """A change filing's new equipment list replaces the old rows."""
    table = EquipmentItem.__table__
    writes: list = [Delete(table, {"project_id": state.id})]
    for item in state.new_equipment:
        item.project_id = state.id
        writes.append(Insert(table, row_values(item)))
    return writes
