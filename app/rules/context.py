"""What every rule receives (`RuleContext`), and the registries definitions name rules from."""

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
    # Moving the project to another place under that place's document: the engine's, which
    # knows every place's definition (`refusal(project, place)`, `apply(project, changes, now)`).
    relocation: Any = None


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
