"""The agency clerk's queue: owed steps, filters, and bulk accept/return."""

from flask import Blueprint

bp = Blueprint("review", __name__)

from . import routes  # noqa: E402,F401
