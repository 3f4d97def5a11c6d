"""Workflow definitions for everyone to read."""

from flask import Blueprint, abort, render_template, request
from flask_login import login_required

from ..extensions import db
from ..models import china_today
from ..models.org import place_name
from ..rules.parameters import in_force
from ..web import fdate
from ..workflow import workflows as loaded
from ..workflow.diagram import svg_diagram
from ..workflow.render import document_name, figures, rows

bp = Blueprint("admin", __name__)


@bp.get("/workflows")
@login_required
def workflows():
    definitions = sorted(loaded().definitions.values(), key=lambda d: (d.jurisdiction, d.key))
    places = {d.jurisdiction: place_name(db.session, d.jurisdiction) for d in definitions}
    return render_template("admin/workflows.html", definitions=definitions, places=places)


@bp.get("/workflows/<key>")
@login_required
def workflow(key):
    version = request.args.get("version", type=int)
    try:
        definition = loaded().get(key, version) if version else loaded().latest(key)
    except (KeyError, ValueError):
        abort(404)
    parameters = in_force(china_today(), definition.jurisdiction)
    return render_template("admin/workflow.html", d=definition, rows=rows(definition),
                           figures=figures(definition, parameters, fdate),
                           document_name=document_name(definition),
                           place=place_name(db.session, definition.jurisdiction),
                           diagram=svg_diagram(definition))

