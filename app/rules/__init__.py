"""Policy rules referenced by name from workflow definitions.

A guard takes the firing context and returns None when the step may go ahead, or a reason
(translated, for the person who asked) when it may not. A branch predicate chooses between
alternative destinations of one trigger (e.g. filing with or without a financing need).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

GUARDS: dict[str, Callable[["RuleContext"], str | None]] = {}
BRANCHES: dict[str, Callable[["RuleContext"], bool]] = {}


@dataclass
class RuleContext:
    project: Any
    actor: Any
    definition: Any
    today: date
    data: dict = field(default_factory=dict)
    comment: str | None = None
    probing: bool = False  # asked by available_triggers or deadlines: inputs not known yet
    acting_role: str | None = None  # the role of the step being judged


def guard(name: str):
    def register(fn):
        GUARDS[name] = fn
        return fn
    return register


def branch(name: str):
    def register(fn):
        BRANCHES[name] = fn
        return fn
    return register


from . import guards  # noqa: E402,F401  (registers the guards)
