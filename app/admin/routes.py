"""Workflow definitions for everyone to read."""

from flask import Blueprint, abort, render_template, request
from flask_login import login_required

from ..workflow import workflows as loaded
from ..workflow.diagram import svg_diagram
from ..workflow.render import mermaid, rows

bp = Blueprint("admin", __name__)


@bp.get("/workflows")
@login_required
def workflows():
    definitions = sorted(loaded().definitions.values(), key=lambda d: (d.jurisdiction, d.key))
    return render_template("admin/workflows.html", definitions=definitions)


@bp.get("/workflows/<key>")
@login_required
def workflow(key):
    version = request.args.get("version", type=int)
    try:
        definition = loaded().get(key, version) if version else loaded().latest(key)
    except (KeyError, ValueError):
        abort(404)
    return render_template("admin/workflow.html", d=definition, rows=rows(definition),
                           diagram=svg_diagram(definition), mermaid=mermaid(definition))

