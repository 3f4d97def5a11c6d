"""E-mail through an outbox that is sent only when the transaction commits.

MAIL_BACKEND "log" (default) writes each message to the `jigai.mail` log; "smtp" sends it
through MAIL_SERVER/MAIL_PORT (with MAIL_USERNAME/MAIL_PASSWORD and MAIL_USE_TLS if set).
"""

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db

log = logging.getLogger("jigai.mail")


def queue_mail(to: str, subject: str, body: str) -> None:
    """Send after the current transaction commits; dropped if it rolls back."""
    db.session().info.setdefault("outbox", []).append(
        (to, subject, body, current_app._get_current_object()))


@event.listens_for(Session, "after_commit")
def send_queued(session):
    """Send what `queue_mail` queued in `session` (once its transaction has committed)."""
    for to, subject, body, app in session.info.pop("outbox", []):
        try:
            deliver(app, to, subject, body)
        except (OSError, smtplib.SMTPException):  # mail must never undo a decision
            log.exception("could not send mail to %s", to)


@event.listens_for(Session, "after_rollback")
def drop_queued(session):
    session.info.pop("outbox", None)


def deliver(app, to: str, subject: str, body: str) -> None:
    config = app.config
    if config.get("MAIL_BACKEND", "log") != "smtp":
        log.info("mail to %s: %s\n%s", to, subject, body)
        return
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT", 25)), timeout=10) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
