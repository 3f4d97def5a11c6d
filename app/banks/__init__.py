"""The bank loan officer's marketplace of whitelisted projects."""

from flask import Blueprint

bp = Blueprint("banks", __name__)

from . import routes  # noqa: E402,F401
