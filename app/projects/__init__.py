"""Declaring, editing, viewing and acting on projects in the browser."""

from flask import Blueprint

bp = Blueprint("projects", __name__)

from . import routes  # noqa: E402,F401
