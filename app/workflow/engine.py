"""The workflow engine: the one place a project changes.

Each loaded definition version compiles into a `transitions` Machine (no automatic
transitions; each transition's conditions are the definition's role, inputs and guards).
Firing a trigger asks the machine: it tries the trigger's transitions out of the project's
status in the definition's order and takes the first whose conditions pass, moving not the
project but the attempt, a model of the decision. The checks, in order: the version the
actor saw is current (else 409), the trigger is possible from the current state (else 409),
the actor holds the role the definition names, in the project's jurisdiction (else 403),
required inputs are given (else 422), every guard passes (else 422 with the reasons).
Whether the actor may see the project at all is asked before, in `app.access` (404).

Changes that are not workflow triggers — creating a project, editing it, a change request,
intended banks, attachments — are audit-only steps (`record`, `create`) with their own event
kinds; they go the same way, so that every change to a project is decided on a
`ProjectState` read by one query and written as one `ChangeSet`: the project's new values,
its audit event, stay, deadlines, an effect's rows and whatever the registered hooks add
(the statistics rollup, notifications). The writer makes it one atomic change guarded by a
conditional UPDATE on the version the actor saw — the serialisation point between
concurrent actors (on PostgreSQL one statement, see changeset). That check guards what the
decision read of its own project; a step whose decision also reads what steps on other
projects write (the claims an enterprise's caps count) names the keys they share, and is
decided and written in one transaction that holds them (`database.serialised_step`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import psycopg
from flask import current_app
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from transitions import Machine, MachineError

from ..database import after_commit, deferring_batch, serialised_step, step_transaction
from ..errors import Conflict, DomainError, Forbidden, GuardFailed, Invalid, NotFound
from ..extensions import db
from ..i18n import format_day
from ..i18n import gettext as _
from ..labels import STATUS_LABELS, input_label, join_list
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
from ..rules.roles import duty_denial, hold_denial, role_denial
from ..validation import jsonable, validation_fields
from . import joint
from .audit import GENESIS, event_hash
from .changeset import (
    ChangeSet,
    Delete,
    Insert,
    Written,
    column_values,
    row_values,
    send,
    write,
    written,
)
from .deadlines import close_stay, deadline_writes, reschedule
from .definitions import Definition, TransitionSpec, parse_text
from .effects import EFFECTS, SERIALISED
from .hooks import HOOKS, Step
from .state import ProjectState, read_state
from .vocabulary import TRIGGERS

ACTED_FIRST = "Someone else acted on this project first; reload."


@dataclass
class Attempt(RuleContext):
    """One try at firing a trigger: the machine's model of the decision.

    `state` is the status the machine reads and moves (the project itself is not moved: its
    change is written from the step's change set). A trigger may have alternatives (by branch
    condition, or by role where several departments may act); the refusal reported is that of
    an alternative whose role the actor holds, else the first role denial.
    """

    state: str = ""
    considered: TransitionSpec | None = None  # an alternative whose branch condition held
    permitted: TransitionSpec | None = None  # an alternative whose role the actor holds
    chosen: TransitionSpec | None = None  # the transition the machine took
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
    """The transition's condition: branch, role, inputs, guards (in that order)."""
    attempt: Attempt = event.model
    if spec.when and not BRANCHES[spec.when](attempt):
        return False
    attempt.considered = spec
    denial = (role_denial(attempt.actor, spec.role, attempt.project, spec.levels)
              or hold_denial(attempt.actor, spec, attempt.project, attempt.today)
              or duty_denial(attempt.actor, spec, attempt.project, attempt.today))
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
    if signed := joint.refusal(attempt.project, spec):
        attempt.reasons.append(signed)
    return not attempt.reasons


def _taken(spec: TransitionSpec, event) -> None:
    event.model.chosen = spec


def compile_machine(definition: Definition) -> Machine:
    """The definition as a `transitions` Machine over the attempt's `state`."""
    return Machine(
        model=None,
        states=list(definition.states),
        transitions=[{
            "trigger": spec.trigger,
            "source": list(spec.sources),
            "dest": spec.dest,
            "conditions": [partial(_admissible, spec)],
            "after": [partial(_taken, spec)],
        } for spec in definition.transitions],
        initial=Status.DRAFT.value,
        auto_transitions=False,
        send_event=True,
        model_attribute="state",
    )


@dataclass
class Relocation:
    """A project moving to another place goes on under that place's document, at its stage,
    or does not move (a change of location is a change filing: DOMAIN "Change filing")."""

    engine: "Workflows"
    today: date

    def refusal(self, project, place: str) -> str | None:
        try:
            new = self.engine.resolve(place, self.today)
        except Invalid as err:
            return err.message
        if project.workflow_key in (None, new.key) or project.status.value in new.states:
            return None
        return _("%(title)s, in force at the new place, has no stage “%(status)s”: the "
                 "project cannot move there at this stage.", title=new.title,
                 status=STATUS_LABELS[project.status])

    def apply(self, project, changes: ChangeSet, now) -> dict:
        """After the project's place changed: freeze it on the new place's definition (its
        facts for the audit event; none when the document stays the same)."""
        old = (project.workflow_key, project.workflow_version)
        if old[0] is None:
            return {}
        new = self.engine.resolve(project.jurisdiction_code, self.today)
        if (new.key, new.version) == old:
            return {}
        project.workflow_key, project.workflow_version = new.key, new.version
        changes.writes.append(snapshot_row(new, now))
        return {"workflow_from": f"{old[0]} v{old[1]}", "workflow_to": f"{new.key} v{new.version}"}


class Workflows:
    """All loaded definitions, by key and version, with their machines."""

    def __init__(self, definitions: list[Definition]):
        self.definitions = {(d.key, d.version): d for d in definitions}
        self.frozen: dict[tuple[str, int], Definition] = {}  # loaded from snapshots
        self._machines = {ident: compile_machine(d) for ident, d in self.definitions.items()}
        self._apart: dict[str, tuple[str, ...]] = {}
        for definition in definitions:
            for spec in definition.transitions:
                self._apart[spec.trigger] = tuple(sorted(
                    {*self._apart.get(spec.trigger, ()), *spec.distinct_from}))

    def machine(self, definition: Definition) -> Machine:
        return self._machines[(definition.key, definition.version)]

    def checked_apart(self, trigger: str) -> tuple[str, ...]:
        """The steps whose taker may not take `trigger` on the same project (maker-checker),
        under any loaded definition — for reading queues and choosing whom to tell in SQL."""
        return self._apart.get(trigger, ())

    def apart_pairs(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(trigger, apart) for trigger, apart in sorted(self._apart.items()) if apart]

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
            self._machines[ident] = compile_machine(definition)
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
                                title=newest.title, date=format_day(newest.expires)),
                              fields={"jurisdiction": _("No policy document in force here.")})
        raise Invalid(_("No policy document is in force for this location on %(date)s.",
                        date=format_day(on)), fields={"jurisdiction": _("No policy document.")})

    def for_project(self, project, today: date | None = None) -> Definition:
        if project.workflow_key is None:  # a draft: the definition is chosen when declared
            return self.resolve(project.jurisdiction_code, today or china_today())
        ident = (project.workflow_key, project.workflow_version)
        return self.definitions.get(ident) or self.frozen.get(ident) or self.get(*ident)

    # -- asking the machine ------------------------------------------------------------------

    def _take(self, definition: Definition, attempt: Attempt, trigger: str) -> bool:
        """Let the definition's machine take `trigger` for the attempt; True when one of the
        trigger's transitions out of the status passed its conditions (the attempt's
        `state` is then the destination, `chosen` the transition)."""
        event = self.machine(definition).events.get(trigger)
        if event is None:
            return False
        try:
            return event.trigger(attempt)
        except MachineError:  # the trigger does not leave this status
            return False

    def available_triggers(self, project, user, today: date | None = None) -> list[Available]:
        """Triggers `user` holds the role for in the project's current state, each with
        whether its guards pass now. (Whether `user` may see the project is `access`'s
        question, asked before: `access.available_steps`.)"""
        try:
            definition = self.for_project(project, today)
        except Invalid:
            return []
        status = project.status.value
        found = []
        for trigger in self.machine(definition).get_triggers(status):
            attempt = Attempt(project=project, actor=user, definition=definition,
                              today=today or china_today(), probing=True, state=status,
                              relocation=Relocation(self, today or china_today()))
            ready = self._take(definition, attempt, trigger)
            if attempt.permitted:
                found.append(Available(trigger, str(TRIGGERS[trigger].label),
                                       attempt.permitted, ready, attempt.reasons))
        return found

    # -- changing a project ------------------------------------------------------------------

    def fire(self, project: Project | ProjectState, trigger: str, actor, *, version: int,
             comment: str | None = None, data: dict | None = None,
             today: date | None = None) -> ProjectState:
        """Fire `trigger` on `project` for `actor`: one transaction with its audit event.

        `project` is the ORM object a page loaded (it is read again, as the decision needs
        it, and expired afterwards) or a `ProjectState` read for this call. The caller has
        asked `access` whether the actor may see it. Returns the project's state after the
        step."""
        today = today or china_today()
        state = _state(project, actor, version)
        if trigger not in TRIGGERS:
            raise Invalid(_("Unknown step."), fields={"trigger": _("Unknown step.")})
        definition = self.for_project(state, today)
        attempt = Attempt(project=state, actor=actor, definition=definition, today=today,
                          data=self._inputs(trigger, data), comment=comment or None,
                          state=state.status.value, relocation=Relocation(self, today))
        keys = SERIALISED[trigger](attempt) if trigger in SERIALISED else ()
        if keys:  # it reads what steps on other projects write: decided under their locks
            with serialised_step(keys):
                return self._decide(project, state, definition, attempt, trigger, version,
                                    today)
        return self._decide(project, state, definition, attempt, trigger, version, today)

    def _decide(self, project, state: ProjectState, definition: Definition, attempt: Attempt,
                trigger: str, version: int, today: date) -> ProjectState:
        """The rest of `fire`: the machine's decision, the change set, its write."""
        actor = attempt.actor
        try:
            if not self._take(definition, attempt, trigger):
                _refuse(attempt, trigger, state.status)
        except DomainError:
            # Checks ran against a project someone may have changed meanwhile (another
            # transaction committed after we read it): then the answer is "acted first".
            if _current_version(state.id) != version:
                raise Conflict(_(ACTED_FIRST)) from None
            raise
        # 会签: a signature before the last is recorded on its own; the step's effect and its
        # move wait for the last one
        pending = joint.awaiting(state, attempt.chosen)
        dest = state.status if pending else Status(attempt.state)
        changes, step = self._compose(state, definition, actor, trigger, dest,
                                      today, fired=attempt.chosen, data=attempt.data,
                                      comment=attempt.comment, pending=pending)
        return _commit(project, state, changes, step)

    def record(self, project: Project | ProjectState, kind: str, actor, *, version: int | None,
               change: Callable[[ProjectState, ChangeSet], dict | None],
               clause: str | None = None, today: date | None = None,
               dest: Status | None = None, comment: str | None = None) -> ProjectState:
        """An audit-only step of `kind` (an edit, a change request, intended banks, a file):
        `change` sets the project's new values on its state, adds its rows to the change set
        and returns the facts its audit event keeps. Deadlines follow as after any step.
        `version` is the one the actor saw; None for an addition that changes nothing the
        actor saw (a file): it applies to the version read, still under the version check.
        `dest` and `comment`: the status a system step moves the project to, and why (items
        to follow overdue)."""
        today = today or china_today()
        state = _state(project, actor, version)
        changes, step = self._compose(state, self._draft_or_frozen(state, today), actor, kind,
                                      dest or state.status, today, clause=clause,
                                      change=change, comment=comment)
        return _commit(project, state, changes, step)

    def create(self, actor, kind: str, change: Callable[[ProjectState, ChangeSet], dict | None],
               today: date | None = None) -> ProjectState:
        """A new draft, by the audit-only step `kind`: `change` sets its values (as `record`).
        The project's row id is drawn before the change is composed, since the rows written
        with it (and the rollup's shard) refer to it."""
        today = today or china_today()
        with step_transaction() as connection:
            state = ProjectState.new(_next_project_id(connection), utcnow())
            changes, step = self._compose(state, None, actor, kind, Status.DRAFT, today,
                                          change=change, owed_under=self._draft_or_frozen)
            _write(connection, changes, step)
        state.applied(version=1, updated_at=changes.project["updated_at"])
        return state

    def _draft_or_frozen(self, state, today: date) -> Definition | None:
        """The definition a project follows — for a draft, the one its place would declare
        under today (none where no document is in force: then nothing is owed yet)."""
        try:
            return self.for_project(state, today)
        except Invalid:
            return None

    @staticmethod
    def _inputs(trigger: str, data: dict | None) -> dict:
        try:
            parsed = TRIGGERS[trigger].data.model_validate(data or {})
        except ValidationError as err:
            raise Invalid(_("The step's data is not valid."),
                          fields=validation_fields(err, prefix="data.")) from err
        return {k: v for k, v in parsed.model_dump().items() if v is not None}

    def relocation(self, today: date) -> Relocation:
        return Relocation(self, today)

    def _compose(self, state: ProjectState, definition: Definition | None, actor, kind: str,
                 dest: Status, today: date, *, fired: TransitionSpec | None = None,
                 data: dict | None = None, comment: str | None = None,
                 clause: str | None = None, change=None,
                 owed_under=None, pending=()) -> tuple[ChangeSet, Step]:
        """Everything the step writes, decided before anything is written."""
        now = utcnow()
        source = None if state.created else state.status
        changes = ChangeSet(state.id, state.version, project={})
        if fired is not None:
            effect = None if pending else EFFECTS.get(kind)
            ctx = RuleContext(project=state, actor=actor, definition=definition, today=today,
                              data=data or {}, comment=comment, acting_role=fired.role,
                              relocation=Relocation(self, today))
            signed = joint.facts(state, fired, list(pending))
            snapshot = {**jsonable(data or {}), **(effect(ctx, now, changes) if effect else {}),
                        **signed}
            clause = fired.clause or None  # none: a capability of the system
        else:
            snapshot = jsonable(change(state, changes) or {})
            if owed_under is not None:  # a new draft: its place is known only now
                definition = owed_under(state, today)
        if definition is not None and state.workflow_key is not None and (
                state.workflow_key, state.workflow_version) != (definition.key, definition.version):
            definition = self.for_project(state, today)  # moved under another place's document
        on_behalf = _held_for(state, fired, actor) if fired is not None else None
        if on_behalf is not None:
            snapshot["on_behalf_of"] = on_behalf.display_name
        stay = None
        if source is not None and dest != source:
            state.status = dest
            state.status_changed_at = now
            stay_row, stay = close_stay(state, source, now)
            changes.writes.append(stay_row)
        if source == Status.DRAFT and dest != source:  # declaring freezes the definition
            state.workflow_key = definition.key
            state.workflow_version = definition.version
            changes.writes.append(snapshot_row(definition, now))
        opened = (reschedule(state, definition, source, fired, today, now)
                  if definition is not None else [])
        row = event_row(state, state.version + 1, kind, source, state.status, actor,
                        clause=clause, comment=comment, data=snapshot, at=now,
                        previous=state.last_hash, on_behalf_of=on_behalf)
        changes.writes.append(Insert(WorkflowEvent.__table__, row))
        changes.event = SimpleNamespace(**row)
        step = Step(state=state, event=changes.event, opened=opened, stay=stay)
        for hook in HOOKS:
            changes.extend(hook.writes(step))
        changes.extend(deadline_writes(state))
        changed = state.values(before=False) if state.created else state.changes
        changes.project = column_values(Project, {**changed, "version": state.version + 1,
                                                  "updated_at": now})
        if state.new_equipment is not None:
            changes.extend(equipment_writes(state))
        return changes, step


def _held_for(state: ProjectState, fired: TransitionSpec, actor) -> User | None:
    """The officer a deputy takes this step for: its holder, when that is someone else (the
    role rule let the deputy take it only in a delegation in force)."""
    holder = next((row.holder_id for row in state.deadlines
                   if row.met_at is None and row.org_id is None and row.trigger == fired.trigger
                   and row.role == fired.role and row.level == fired.level_key), None)
    if holder is None or holder == actor.id:
        return None
    return db.session.get(User, holder)


def _state(project, actor, version: int | None) -> ProjectState:
    """The project as the decision needs it, at the version the actor saw."""
    state = project if isinstance(project, ProjectState) else read_state(project.id, actor)
    if state is None:
        raise NotFound(_("No such project."))
    if version is not None and version != state.version:
        raise Conflict(_("The project changed since you loaded it (version %(seen)s, now "
                         "%(now)s); reload and try again.", seen=version, now=state.version))
    return state


def _refuse(attempt: Attempt, trigger: str, status: Status):
    """The precise refusal of a trigger the machine did not take."""
    if attempt.considered is None:
        raise Conflict(_("“%(step)s” is not possible while the project is “%(status)s”.",
                         step=TRIGGERS[trigger].label, status=STATUS_LABELS[status]))
    if attempt.permitted is None:
        raise Forbidden(attempt.denials[0])
    if attempt.missing:
        fields = {("comment" if k == "comment" else f"data.{k}"):
                  _("%(label)s is required for this step.", label=input_label(k))
                  for k in attempt.missing}
        raise Invalid(_("Required input is missing: %(keys)s.",
                        keys=join_list(input_label(k) for k in attempt.missing)), fields=fields)
    raise GuardFailed(" ".join(attempt.reasons), reasons=attempt.reasons)


def _commit(project, state: ProjectState, changes: ChangeSet, step: Step) -> ProjectState:
    """Write the change set in its one transaction, then let the hooks act on it.

    A transaction PostgreSQL aborts as a deadlock's victim or for a serialization failure
    wrote nothing, so the same change set is written again (its write is still conditional
    on the version read), up to STEP_RETRIES times; then the caller is told to try again."""
    retries = current_app.config.get("STEP_RETRIES", 3)
    for attempt in range(retries + 1):
        try:
            with step_transaction() as connection:
                _write(connection, changes, step)
            break
        except (DBAPIError, psycopg.Error) as err:
            if _sqlstate(err) not in RETRYABLE or deferring_batch() is not None:
                raise
            if attempt == retries:
                raise Conflict(_("Another change to the same records was being written at "
                                 "the same moment; nothing was changed, please try again.")
                               ) from err
    state.applied(version=changes.expected_version + 1, updated_at=changes.project["updated_at"])
    if isinstance(project, Project):
        db.session.expire(project)
    return state


# deadlock_detected, serialization_failure: the transaction was aborted and wrote nothing
RETRYABLE = {"40P01", "40001"}


def _sqlstate(err: Exception) -> str | None:
    return getattr(getattr(err, "orig", None) or err, "sqlstate", None)


def _write(connection, changes: ChangeSet, step: Step) -> None:
    """The change set, written; the hooks act once its transaction has committed. In a
    batch that reads its results at the commit, sent now and judged then."""
    batch = deferring_batch()
    if batch is not None:
        batch.defer(send(connection, changes), lambda rows: _judged(written(rows), step))
        return
    try:
        done = write(connection, changes)
    except IntegrityError as err:
        if "project_code" in str(err.orig):
            raise Invalid(_("Please correct the marked fields."), fields={
                "project_code": _("Another project already has this code.")}) from err
        raise Conflict(_(ACTED_FIRST)) from err  # a unique index saw a concurrent winner
    _judged(done, step)


def _judged(done: Written, step: Step) -> None:
    if not done.moved:
        raise Conflict(_(ACTED_FIRST))
    after_commit(partial(_written, step, done.notified))


def _written(step: Step, notified: list) -> None:
    for hook in HOOKS:
        hook.written(step, notified)


def _current_version(project_id: int) -> int:
    return db.session.execute(select(Project.version).where(Project.id == project_id)).scalar_one()


def _next_project_id(connection) -> int:
    """A new project's row id, drawn inside the creating transaction: PostgreSQL's sequence;
    on SQLite the write lock is held, so the next free id stays free until the commit."""
    if connection.dialect.name == "postgresql":
        sql = "SELECT nextval(pg_get_serial_sequence('projects', 'id'))"
    else:
        sql = "SELECT coalesce(max(id), 0) + 1 FROM projects"
    return connection.execute(text(sql)).scalar_one()


def event_row(project, seq: int, trigger: str, source: Status | None, dest: Status, actor, *,
              clause: str | None, comment: str | None, data: dict, at,
              previous: str | None, on_behalf_of=None) -> dict:
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
           "comment": comment, "data": data, "created_at": at, "prev_hash": previous,
           "on_behalf_of_id": on_behalf_of.id if on_behalf_of is not None else None}
    row["hash"] = event_hash(SimpleNamespace(**row), project.public_id)
    return row


def snapshot_row(definition: Definition, now) -> Insert:
    """The definition's text, stored once: the first time a project is frozen on it."""
    return Insert(DefinitionSnapshot.__table__, {
        "key": definition.key, "version": definition.version, "sha256": definition.sha256,
        "source_text": definition.text, "first_used_at": now}, if_absent=True)


def equipment_writes(state: ProjectState) -> list:
    """A new equipment list (a declaration, an edit, a change filing) replaces the old rows."""
    table = EquipmentItem.__table__
    writes: list = [] if state.created else [Delete(table, {"project_id": state.id})]
    for item in state.new_equipment:
        item.project_id = state.id
        writes.append(Insert(table, row_values(item)))
    return writes
