"""The workflow engine: the one place a project's status changes.

One `transitions` machine per definition is built at start-up. Firing a trigger checks, in
order: the project is visible to the actor (else 404), the version the actor saw is current
(else 409), the trigger is possible from the current state (else 409), the actor holds the
role the definition names, in the project's jurisdiction (else 403), required inputs are
given (else 422), every guard passes (else 422 with the reasons). The status then changes by
a conditional UPDATE on the expected version — the serialisation point between concurrent
actors — and the audit event is written in the same transaction.
"""

from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path

from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from transitions import Machine, MachineError

from ..database import unit_of_work
from ..errors import Conflict, DomainError, Forbidden, GuardFailed, Invalid, NotFound
from ..extensions import db
from ..labels import STATUS_LABELS
from ..models import (
    DefinitionSnapshot,
    Project,
    Status,
    User,
    WorkflowEvent,
    ancestor_codes,
    china_today,
    utcnow,
)
from ..rules import BRANCHES, GUARDS, RuleContext
from ..services.access import can_see, duty_denial, role_denial
from ..validation import jsonable, validation_fields
from .audit import GENESIS, event_hash
from .deadlines import reschedule, track_stage
from .definitions import Definition, TransitionSpec, parse_text
from .effects import EFFECTS
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


class _Subject:
    """The model a machine moves: only a state, taken from and written back to the project."""

    state: str


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


def _chosen(spec: TransitionSpec, event) -> None:
    event.kwargs["ctx"].chosen = spec


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
                "after": [partial(_chosen, spec)],
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

    def _get_machine(self, definition: Definition) -> Machine:
        return self._machines[(definition.key, definition.version)]

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

    def available_triggers(self, project: Project, user: User,
                           today: date | None = None) -> list[Available]:
        """Triggers `user` holds the role for in the project's current state."""
        if not can_see(user, project):
            return []
        try:
            definition = self.for_project(project, today)
        except Invalid:
            return []
        machine = self._get_machine(definition)
        subject = _Subject()
        machine.add_model(subject, initial=project.status.value)
        try:
            found = []
            for trigger in machine.get_triggers(project.status.value):
                attempt = Attempt(project=project, actor=user, definition=definition,
                                  today=today or china_today(), probing=True)
                ready = subject.may_trigger(trigger, ctx=attempt)
                if attempt.permitted:
                    found.append(Available(trigger, str(TRIGGERS[trigger].label),
                                           attempt.permitted, ready, attempt.reasons))
            return found
        finally:
            machine.remove_model(subject)

    def fire(self, project: Project, trigger: str, actor: User, *, version: int,
             comment: str | None = None, data: dict | None = None,
             today: date | None = None) -> Project:
        """Fire `trigger` on `project` for `actor`; one transaction with its audit event."""
        today = today or china_today()
        with unit_of_work():
            if not can_see(actor, project):
                raise NotFound(_("No such project."))
            if trigger not in TRIGGERS:
                raise Invalid(_("Unknown step."), fields={"trigger": _("Unknown step.")})
            if version != project.version:
                raise Conflict(_("The project changed since you loaded it (version %(seen)s, now "
                                 "%(now)s); reload and try again.", seen=version,
                                 now=project.version))
            definition = self.for_project(project, today)
            attempt = Attempt(project=project, actor=actor, definition=definition, today=today,
                              data=self._inputs(trigger, data), comment=comment or None)
            source = project.status
            try:
                dest = self._run_machine(definition, attempt, trigger)
            except DomainError:
                # Checks ran against a project someone may have changed meanwhile (another
                # transaction committed after we read it): then the answer is "acted first".
                current = db.session.execute(
                    select(Project.version).where(Project.id == project.id)).scalar_one()
                if current != version:
                    raise Conflict(_("Someone else acted on this project first; reload.")) from None
                raise
            now = utcnow()
            advance(project, version, now)
            try:
                snapshot = {**jsonable(attempt.data),
                            **EFFECTS.get(trigger, lambda *_: {})(attempt, now)}
                # After the effects, so that one UPDATE carries the status and what the new
                # status requires (e.g. the lead bank of a designated project).
                if dest != source:
                    project.status = Status(dest)
                    project.status_changed_at = now
                if source == Status.DRAFT:  # declaring freezes the definition and version
                    project.workflow_key = definition.key
                    project.workflow_version = definition.version
                    keep_snapshot(definition)
                # The reads below need nothing of this change flushed; one flush at the end
                # writes the project once.
                with db.session.no_autoflush:
                    if dest != source:
                        track_stage(project, now)
                    opened = reschedule(project, definition, source, attempt.chosen, today, now)
                    record_event(project, trigger, source, project.status, actor,
                                 clause=attempt.chosen.clause, comment=attempt.comment,
                                 data=snapshot, at=now, opened=opened)
                db.session.flush()
            except IntegrityError as err:  # a unique index saw a concurrent winner
                raise Conflict(_("Someone else acted on this project first; reload.")) from err
        return project

    @staticmethod
    def _inputs(trigger: str, data: dict | None) -> dict:
        try:
            parsed = TRIGGERS[trigger].data.model_validate(data or {})
        except ValidationError as err:
            raise Invalid(_("The step's data is not valid."),
                          fields=validation_fields(err, prefix="data.")) from err
        return {k: v for k, v in parsed.model_dump().items() if v is not None}

    def _run_machine(self, definition: Definition, attempt: Attempt, trigger: str) -> str:
        machine = self._get_machine(definition)
        subject = _Subject()
        status = attempt.project.status
        machine.add_model(subject, initial=status.value)
        try:
            moved = subject.trigger(trigger, ctx=attempt)
        except (MachineError, AttributeError):
            moved = False
        finally:
            machine.remove_model(subject)
        if moved:
            return subject.state
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


def record_event(project: Project, trigger: str, source: Status | None, dest: Status,
                 actor: User, *, clause: str | None, comment: str | None, data: dict,
                 at, opened=()) -> WorkflowEvent:
    """Append the audit event for the change that brought `project` to its current version.

    `opened` are the deadlines the change opened; hooks (notifications) get them."""
    seq = project.version
    previous = GENESIS if seq == 1 else db.session.scalar(
        select(WorkflowEvent.hash).where(WorkflowEvent.project_id == project.id,
                                         WorkflowEvent.seq == seq - 1))
    if previous is None:
        raise RuntimeError(f"audit trail of project {project.id} lacks event {seq - 1}")
    org = actor.organization
    event = WorkflowEvent(
        project_id=project.id, seq=seq, trigger=trigger,
        from_state=source.value if source else None, to_state=dest.value,
        workflow_key=project.workflow_key, workflow_version=project.workflow_version,
        clause=clause, actor_id=actor.id, actor_name=actor.display_name,
        actor_role=actor.role, actor_org_id=org.id, actor_org_name=org.name,
        comment=comment, data=data, created_at=at, prev_hash=previous,
    )
    event.hash = event_hash(event, project.public_id)
    db.session.add(event)
    for hook in EVENT_HOOKS:
        hook(project, event, list(opened))
    return event


# Called with (project, event, opened deadlines) for every audit event, inside its
# transaction (notifications).
EVENT_HOOKS: list = []


def keep_snapshot(definition: Definition) -> None:
    """Store the definition's text once, the first time a project is frozen on it."""
    values = {"key": definition.key, "version": definition.version,
              "sha256": definition.sha256, "source_text": definition.text,
              "first_used_at": utcnow()}
    insert = (postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert)
    db.session.execute(insert(DefinitionSnapshot).values(**values).on_conflict_do_nothing())
