"""One decision for many projects — from the queue's bulk bar or `POST /api/v1/bulk-transitions`
— told truthfully: only the steps every selected project allows this person, confirmed with
their number, and a result for each project (done, or why not).

The projects are read in one query (one snapshot for all); then each is decided and written
exactly as a single step would be — the same visibility check (404), the engine's version,
role, input and guard checks, and the step writer's one atomic change with its audit event,
deadlines and rollup — each project its own transaction, so a refusal or a lost race on one
leaves every other as it is. (The steps are committed together every BULK_CHUNK_SECONDS, each
undone alone if it fails — in its own savepoint, or on PostgreSQL by taking the transaction's
steps again one by one: `database.StepBatch`.)"""

import uuid
from dataclasses import dataclass
from datetime import date
from functools import partial

from flask import current_app
from sqlalchemy import select

from .. import access
from ..database import autocommit_statements, step_batch
from ..errors import Conflict, DomainError, Invalid, NotFound
from ..extensions import db
from ..i18n import gettext as _
from ..models import Project, User, china_today
from ..projects.operations import parse_public_id
from ..workflow import workflows
from ..workflow.state import ProjectState, read_states
from ..workflow.vocabulary import TRIGGERS
from . import queue as owed
from .queue import QueueFilter

# A bulk decision from the queue takes at most a comment; a step that needs more (a filing
# number, an amount) is taken project by project. (The API's takes the step's data.)
BULK_INPUTS = frozenset({"comment"})
MAX_SELECTED = 500


@dataclass
class Selected:
    project: Project
    version: int  # the version the clerk saw when selecting


@dataclass
class Choice:
    trigger: str
    label: str
    needs_comment: bool


@dataclass
class Outcome:
    """One listed project's result: done (its state after the step) or the refusal."""

    key: str  # the id as listed
    name: str
    state: ProjectState | None = None  # after the step, when done
    error: DomainError | None = None
    public_id: uuid.UUID | None = None  # a project the person may see, to link to

    def refuse(self, error: DomainError) -> None:
        self.state, self.error = None, error

    @property
    def done(self) -> bool:
        return self.error is None

    @property
    def message(self) -> str:
        return self.error.message if self.error else _("Done.")


def _refused(message: str) -> Invalid:
    return Invalid(message, fields={"project": message})


def parse_selection(values: list[str]) -> list[tuple[str, int]]:
    """The queue's picks ("public id:version" each) as (id, version); none, too many or a
    malformed one is refused with the reason."""
    if not values:
        raise _refused(_("Select at least one project."))
    if len(values) > MAX_SELECTED:
        raise _refused(_("Select at most %(n)s projects at a time.", n=MAX_SELECTED))
    items = []
    for value in values:
        public_id, _sep, version = value.partition(":")
        if not version.isdigit() or len(version) > 9:
            raise _refused(_("The selection is not valid; reload the queue."))
        items.append((public_id, int(version)))
    return items


def whole_result(user: User, filters: QueueFilter, today: date | None = None) -> list[str]:
    """Every project the queue's filters match (at most MAX_SELECTED), as the queue page's
    picks: selecting a whole filter result, not just the page shown."""
    rows, _next = owed.queue(user, filters, today or china_today(), limit=MAX_SELECTED)
    picks = dict.fromkeys(f"{row.project.public_id}:{row.project.version}" for row in rows)
    return list(picks)


def selected(user: User, values: list[str]) -> list[Selected]:
    """The projects picked on the queue, as this user may see them (read in one query); one
    not visible is refused with the reason."""
    items = parse_selection(values)
    keys = {}
    for public_id, version in items:
        try:
            keys[parse_public_id(public_id)] = version
        except NotFound:
            raise _refused(_("The selection is not valid; reload the queue.")) from None
    found = {p.public_id: p for p in db.session.scalars(
        select(Project).where(Project.public_id.in_(list(keys))))}
    chosen = []
    for key, version in keys.items():
        project = found.get(key)
        if refusal := access.see_refusal(user, project):
            raise refusal
        chosen.append(Selected(project, version))
    return chosen


def common_choices(user: User, chosen: list[Selected]) -> list[Choice]:
    """The steps every selected project allows `user` now that need nothing but a comment:
    the owed step first, then the alternatives beside it (a return, a rejection)."""
    common = None
    for item in chosen:
        ready = {a.trigger: a for a in access.available_steps(user, item.project) if a.ready
                 and set(a.requires) <= BULK_INPUTS}
        common = ready if common is None else {t: a for t, a in common.items() if t in ready}
        if not common:
            break
    return [Choice(a.trigger, str(a.label), "comment" in a.requires)
            for a in sorted((common or {}).values(), key=lambda a: not TRIGGERS[a.trigger].owed)]


def steps_of(user: User, chosen: list[Selected]) -> dict[int, list[str]]:
    """Each selected project's ready steps (to say why a mixed selection has none in common)."""
    return {item.project.id: [str(a.label) for a in access.available_steps(user, item.project)
                              if a.ready] for item in chosen}


def decide(user, trigger: str, items: list[tuple[str | uuid.UUID, int]], *,
           comment: str | None = None, data: dict | None = None,
           today: date | None = None) -> list[Outcome]:
    """Take `trigger` on each listed project ((id, version seen), in the order given): all
    read in one query, then each checked and written as its own single step. A project
    listed twice is refused the second time (409)."""
    today = today or china_today()
    keys = []
    for key, _version in items:
        try:
            keys.append(parse_public_id(key))
        except NotFound:
            keys.append(None)
    autocommit_statements()  # the web's bulk bar writes as the API does (PostgreSQL)
    states = read_states({k for k in keys if k is not None}, user)
    engine, seen, outcomes = workflows(), set(), []

    def take(outcome: Outcome, key: uuid.UUID, version: int, fresh: bool) -> None:
        state = read_states({key}, user).get(key) if fresh else states[key]
        outcome.state = outcome.error = None
        try:
            if refusal := access.see_refusal(user, state):
                raise refusal
            outcome.state = engine.fire(state, trigger, user, version=version,
                                        comment=comment, data=data, today=today)
        except DomainError as err:
            outcome.refuse(err)

    with step_batch(current_app.config["BULK_CHUNK_SECONDS"]) as batch:
        for (given, version), key in zip(items, keys, strict=True):
            outcome = Outcome(str(given), str(given))
            outcomes.append(outcome)
            state = states.get(key) if key is not None else None
            if refusal := access.see_refusal(user, state):
                outcome.error = refusal  # unknown and invisible alike: nothing is told
                continue
            outcome.name, outcome.public_id = state.name, state.public_id
            if key in seen:
                outcome.error = Conflict(_("The project is listed more than once; it was "
                                           "decided once."))
                continue
            seen.add(key)
            batch.take(partial(take, outcome, key, version), outcome.refuse)
    return outcomes
