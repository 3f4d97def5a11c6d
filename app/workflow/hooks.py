"""What the engine asks of the rest of the app, registered at start-up.

A step's writes belong to it alone; what else follows from a step — the statistics rollup
it moves, the people it tells, the mail they get — belongs to other parts of the app, which
the engine must not import (they import it). Each registers a hook in `create_app`: the
engine hands every step to every hook, which adds its own rows to the step's one atomic
change (`writes`) and acts once the change is committed (`written`).
"""

from dataclasses import dataclass, field
from typing import Any, Protocol

from .deadlines import Stay


@dataclass
class Step:
    """One change to a project as the hooks see it: the project's values before and after
    (`state.values(before=…)`), its audit event, the deadlines it opened and the stay it
    closed."""

    state: Any  # the ProjectState, as changed
    event: Any  # the audit event's columns (attributes of a namespace)
    opened: list = field(default_factory=list)
    stay: Stay | None = None


class StepHook(Protocol):
    def writes(self, step: Step) -> list:
        """Rows written with the step, in its transaction (change-set writes)."""

    def written(self, step: Step, notified: list) -> None:
        """After the step committed; `notified` are (email, kind, params) of those told."""


HOOKS: list[StepHook] = []


def register_hook(hook: StepHook) -> None:
    """Add `hook` for every step (once, however often the app is built)."""
    if hook not in HOOKS:
        HOOKS.append(hook)
