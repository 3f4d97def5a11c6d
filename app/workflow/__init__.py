"""The workflow engine and its definitions. `workflows()` is the app's loaded set.

Imports run one way: this package uses `app.rules` and `app.models` and nothing above them;
what else a step sets off (statistics, notifications, mail) reaches it as hooks registered
at start-up (`hooks.register_hook`).
"""

import logging

from flask import Flask, current_app

from .definitions import Definition, DefinitionError, TransitionSpec, load_definitions
from .engine import Available, Workflows
from .hooks import HOOKS, Step, register_hook
from .vocabulary import (
    ATTACH,
    AUDIT_ONLY,
    CREATE,
    DETACH,
    EDIT,
    IMPORT,
    REQUEST_CHANGE,
    SET_INTENDED_BANKS,
    TRIGGERS,
)

log = logging.getLogger(__name__)

__all__ = [
    "ATTACH", "AUDIT_ONLY", "CREATE", "DETACH", "EDIT", "HOOKS", "IMPORT", "REQUEST_CHANGE",
    "SET_INTENDED_BANKS", "TRIGGERS", "Available", "Definition", "DefinitionError", "Step",
    "TransitionSpec", "Workflows", "init_app", "load_definitions", "register_hook", "workflows",
]

_KEY = "jigai.workflows"


def init_app(app: Flask) -> None:
    """Load the definitions once. A broken set is logged and kept as the error, so that
    `flask workflows check` can still run and explain it; firing anything then fails."""
    try:
        app.extensions[_KEY] = Workflows(load_definitions(app.config["WORKFLOWS_DIR"]))
    except DefinitionError as err:
        log.error("workflow definitions are invalid:\n%s", err)
        app.extensions[_KEY] = err


def workflows() -> Workflows:
    loaded = current_app.extensions[_KEY]
    if isinstance(loaded, DefinitionError):
        raise RuntimeError(f"workflow definitions are invalid:\n{loaded}")
    return loaded
