"""The workflow engine and its definitions. `workflows()` is the app's loaded set."""

import logging

from flask import Flask, current_app

from .definitions import Definition, DefinitionError, TransitionSpec, load_definitions
from .engine import EVENT_HOOKS, Available, Workflows, advance, record_event
from .vocabulary import CREATE, EDIT, IMPORT, REQUEST_CHANGE, SET_INTENDED_BANKS, TRIGGERS

log = logging.getLogger(__name__)

__all__ = [
    "CREATE", "EDIT", "EVENT_HOOKS", "IMPORT", "REQUEST_CHANGE", "TRIGGERS", "Available", "Definition",
    "DefinitionError", "TransitionSpec", "Workflows", "advance", "init_app", "load_definitions",
    "SET_INTENDED_BANKS", "record_event", "workflows",
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
