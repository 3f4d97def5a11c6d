"""E-mail. The step that tells someone writes the notification, and with it the mail
outbox (the notification's `mail_state`); the job worker sends it (app/jobs/outbox.py), so
a decision never waits for a mail server and a failure never undoes one.

MAIL_BACKEND "log" (default) writes each message to the `jigai.mail` log and appends it, one
JSON line, to MAIL_LOG; "smtp" sends it through MAIL_SERVER/MAIL_PORT (with
MAIL_USERNAME/MAIL_PASSWORD and MAIL_USE_TLS if set). Every message carries a Message-ID of
its notification, the same on every attempt.
"""

import json
import logging
import os
import smtplib
from email.message import EmailMessage
from email.utils import formatdate

log = logging.getLogger("jigai.mail")


class Undeliverable(Exception):
    """The mail server refused the message for good (a rejected address, say)."""


def deliver(app, to: str, subject: str, body: str, message_id: str) -> None:
    """Send one message. Undeliverable when the server refuses it for good; any other
    failure (OSError, SMTPException) is worth another try later."""
    config = app.config
    if config.get("MAIL_BACKEND", "log") != "smtp":
        log.info("mail to %s: %s\n%s", to, subject, body)
        if config.get("MAIL_LOG"):
            _append(config["MAIL_LOG"], {"message_id": message_id, "to": to,
                                         "subject": subject, "body": body})
        return
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = formatdate(localtime=True)
    message.set_content(body)
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT", 25)),
                          timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as err:
        raise Undeliverable(str(err)) from err
    except smtplib.SMTPResponseException as err:
        if err.smtp_code >= 500:
            raise Undeliverable(str(err)) from err
        raise


def delivered(app, message_id: str) -> bool | None:
    """Whether the message was sent already — asked of a message whose sender died while
    sending it. The log backend can tell from its file; an SMTP server cannot be asked (None:
    the message is sent again, with the same Message-ID for the receiver to recognise)."""
    config = app.config
    if config.get("MAIL_BACKEND", "log") == "smtp" or not config.get("MAIL_LOG"):
        return None
    try:
        with open(config["MAIL_LOG"], encoding="utf-8") as lines:
            needle = json.dumps(message_id)
            return any(needle in line for line in lines)
    except FileNotFoundError:
        return False


def _append(path: str, record: dict) -> None:
    """One line in one write on an O_APPEND file: whole or not at all, whoever else appends."""
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
