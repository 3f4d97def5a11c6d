"""E-mail, sent after the step that caused it has committed (a failure is logged: mail
never undoes a decision).

MAIL_BACKEND "log" (default) writes each message to the `jigai.mail` log; "smtp" sends it
through MAIL_SERVER/MAIL_PORT (with MAIL_USERNAME/MAIL_PASSWORD and MAIL_USE_TLS if set).
"""

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger("jigai.mail")


def send_mail(to: str, subject: str, body: str) -> None:
    try:
        deliver(current_app._get_current_object(), to, subject, body)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send mail to %s", to)


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
