"""The mail outbox: the notifications whose e-mail is still to send.

A step writes its notifications in its own statement, each with its mail `pending`; once
the step has committed, the jobs' step hook rings a worker (`HOOK`), and a mail job sends:
it claims a batch (`sending`, under the job, in one transaction), sends each message with
its notification's Message-ID and marks it `sent`. A job whose worker died is queued again
(runner.recover) and first settles the messages it had claimed: the log backend tells
whether each went out (so each is sent exactly once); an SMTP server cannot, so those are
sent again with the same Message-ID (at least once). The minute's sweep (`outbox`, the
example periodic task) sends whatever no ring reached, and looks after lost jobs.
"""

import logging

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import exists, select, update

from ..database import unit_of_work
from ..extensions import db
from ..inbox.mail import Undeliverable, deliver, delivered
from ..inbox.notifications import notification_text
from ..models import Job, MailState, Notification, User
from ..workflow.hooks import Step
from . import runner
from .schedule import crontab, periodic

log = logging.getLogger("jigai.mail")


class Ringer:
    """The step hook: once a step that told someone with an address has committed, ring a
    worker to send the mail (it writes nothing itself: the notifications are the outbox)."""

    @staticmethod
    def writes(step: Step) -> list:
        return []

    @staticmethod
    def written(step: Step, notified: list) -> None:
        if notified:
            current_app.extensions[runner.QUEUE].ring_mail()


HOOK = Ringer()


def mail_waiting() -> bool:
    return bool(db.session.scalar(select(exists().where(
        Notification.mail_state == MailState.PENDING))))


def send_pending() -> None:
    """A mail job for what is waiting, run here (nothing when nothing waits)."""
    if mail_waiting():
        job = runner.submit("mail", "mail", rung=False)
        runner.run(job.id)


@runner.handler("mail")
def send(run: runner.Run) -> None:
    """Send the waiting mail, a batch at a time, until none waits."""
    app = current_app._get_current_object()
    sent = sum(_send_one(app, run, note, in_doubt=True) for note in _claimed(run))
    while True:
        with unit_of_work():
            run.own(created=Job.created + sent)
            sent = 0
            rows = db.session.execute(
                select(Notification.id, User.email).join(User, User.id == Notification.user_id)
                .where(Notification.mail_state == MailState.PENDING).order_by(Notification.id)
                .limit(app.config["MAIL_BATCH"])
                .with_for_update(of=Notification, skip_locked=True)).all()
            if not rows:
                break
            addressed = [note_id for note_id, email in rows if email]
            _set(MailState.NONE, [note_id for note_id, email in rows if not email])
            _set(MailState.SENDING, addressed, mail_job_id=run.job_id)
            run.own(total=Job.total + len(addressed))
        sent += sum(_send_one(app, run, note) for note in _claimed(run))


@periodic("outbox", crontab(minute="*"), period="minute")
def sweep(run: runner.Run) -> None:
    """Every minute, once: queue again the jobs whose worker died, forget old finished
    jobs, and send whatever mail no ring reached."""
    runner.recover()
    runner.purge()
    send(run)


def _claimed(run: runner.Run) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(
        Notification.mail_job_id == run.job_id, Notification.mail_state == MailState.SENDING)
        .order_by(Notification.id)))


def _set(state: MailState, ids: list[int], **values) -> None:
    if ids:
        db.session.execute(update(Notification).where(Notification.id.in_(ids))
                           .values(mail_state=state, **values))


def message_id(app, notification_id: int) -> str:
    domain = app.config["MAIL_FROM"].rpartition("@")[2] or "jigai"
    return f"<notification-{notification_id}@{domain}>"


def _send_one(app, run: runner.Run, note: Notification, in_doubt: bool = False) -> int:
    """Send one claimed message (unless, `in_doubt`, it went out already); 1 if sent."""
    ident = message_id(app, note.id)
    state = MailState.SENT
    if not (in_doubt and delivered(app, ident)):
        email = db.session.scalar(select(User.email).where(User.id == note.user_id))
        if email is None:
            state = MailState.NONE
        else:
            with force_locale("zh_CN"):  # mail goes out in the default language
                subject = notification_text(note.kind, note.trigger, note.params)
            body = "\n\n".join(filter(None, [subject, (note.params or {}).get("comment")]))
            try:
                deliver(app, email, subject, body, ident)
            except Undeliverable:
                log.exception("mail to %s refused for good", email)
                state = MailState.FAILED
    with unit_of_work():
        db.session.execute(update(Notification).where(
            Notification.id == note.id, Notification.mail_state == MailState.SENDING)
            .values(mail_state=state))
    return int(state == MailState.SENT)
