"""One decision for several projects from the queue, told truthfully: only the steps every
selected project allows this person, confirmed with their number, and a result for each
project (done, or why not) — each project its own transaction."""

from dataclasses import dataclass

from .. import access
from ..errors import DomainError, Invalid, NotFound
from ..extensions import db
from ..i18n import gettext as _
from ..models import Project, User
from ..projects.operations import get_project, take_step
from ..workflow.vocabulary import TRIGGERS

# A bulk decision takes at most a comment; a step that needs more (a filing number, an
# amount) is taken project by project.
BULK_INPUTS = frozenset({"comment"})
MAX_SELECTED = 100


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
    project: Project | None
    name: str
    done: bool
    message: str


def selected(user: User, values: list[str]) -> list[Selected]:
    """The projects picked on the queue ("public id:version" each), as this user may see
    them; none, too many or one not visible is refused with the reason."""
    if not values:
        raise _refused(_("Select at least one project."))
    if len(values) > MAX_SELECTED:
        raise _refused(_("Select at most %(n)s projects at a time.", n=MAX_SELECTED))
    found = []
    for value in values:
        public_id, _sep, version = value.partition(":")
        if not version.isdigit():
            raise _refused(_("The selection is not valid; reload the queue."))
        found.append(Selected(get_project(user, public_id), int(version)))
    return found


def _refused(message: str) -> Invalid:
    return Invalid(message, fields={"project": message})


def common_choices(user: User, chosen: list[Selected]) -> list[Choice]:
    """The steps every selected project allows `user` now that need nothing but a comment:
    the owed step first, then the alternatives beside it (a return, a rejection)."""
    common = None
    for item in chosen:
        ready = {a.trigger: a for a in access.available_steps(user, item.project) if a.ready
                 and set(a.requires) <= BULK_INPUTS}
        common = ready if common is None else {t: a for t, a in common.items() if t in ready}
    return [Choice(a.trigger, str(a.label), "comment" in a.requires)
            for a in sorted((common or {}).values(), key=lambda a: not TRIGGERS[a.trigger].owed)]


def steps_of(user: User, chosen: list[Selected]) -> dict[int, list[str]]:
    """Each selected project's ready steps (to say why a mixed selection has none in common)."""
    return {item.project.id: [str(a.label) for a in access.available_steps(user, item.project)
                              if a.ready] for item in chosen}


def apply(user: User, trigger: str, values: list[str], comment: str | None) -> list[Outcome]:
    """Take `trigger` on each selected project, each in its own transaction."""
    outcomes = []
    for value in values:
        public_id, _sep, version = value.partition(":")
        try:
            project = get_project(user, public_id)
        except NotFound as err:
            outcomes.append(Outcome(None, public_id, False, err.message))
            continue
        name = project.name
        try:
            take_step(user, project, trigger, version=int(version or 0), comment=comment)
        except (DomainError, ValueError) as err:
            db.session.rollback()
            outcomes.append(Outcome(project, name, False, getattr(err, "message", str(err))))
            continue
        outcomes.append(Outcome(project, name, True, _("Done.")))
    return outcomes
