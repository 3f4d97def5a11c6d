"""The notifications page."""

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from . import notifications as inbox

bp = Blueprint("inbox", __name__)


@bp.get("/notifications")
@login_required
def notifications():
    items = inbox.inbox(current_user)
    return render_template("inbox/notifications.html", items=items, text=inbox.notification_text)


@bp.post("/notifications/read")
@login_required
def notifications_read():
    inbox.mark_read(current_user)
    return redirect(url_for("inbox.notifications"))


@bp.get("/notifications/<int:notification_id>")
@login_required
def open_notification(notification_id):
    """Opening a notification marks it read and goes to its project."""
    found = inbox.open_notification(current_user, notification_id)
    if found is None:
        abort(404)
    if found.project is None:
        return redirect(url_for("inbox.notifications"))
    return redirect(url_for("projects.show", project_id=found.project.public_id))
