"""Attachments: type checked by content and named by it, size limited per file and per
project, stored outside the web root, given out only to those who may see the project, and
always as a download; deleted by their uploader while the project is a draft or returned."""

import hashlib
import unicodedata
import uuid

import puremagic
from flask import current_app
from sqlalchemy import func, select

from .. import access
from ..errors import Invalid, NotFound
from ..extensions import db
from ..i18n import gettext as _
from ..models import Attachment, AttachmentKind, Project, User, utcnow
from ..workflow import ATTACH, DETACH, workflows
from .files import file_store

ALLOWED = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


def clean_filename(name: str) -> str:
    """A display name: the last path part, printable characters only, at most 150 long."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base)
                   if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ").strip(" .")
    return base[:150] or "file"


def stored_name(filename: str, content_type: str) -> str:
    """The name a file is kept and given out under: the name it came with, its extension
    replaced by the one of the type its content has (a PNG sent as `evil.html` is
    `evil.png`), so no program ever opens it as something else."""
    extension = ALLOWED[content_type]
    stem = clean_filename(filename)
    if "." in stem:
        stem = stem.rsplit(".", 1)[0].rstrip(" .") or "file"
    return stem[:150 - len(extension)] + extension


def detect_type(data: bytes) -> str | None:
    try:
        mime = puremagic.from_string(data, mime=True)
    except (puremagic.PureError, ValueError):
        return None
    return mime if mime in ALLOWED else None


def upload(actor: User, project: Project, kind: AttachmentKind, filename: str,
           data: bytes) -> Attachment:
    """Add a file to the project: an audit-only step ('attach') of whichever version the
    project is at (a file added changes nothing another actor saw)."""
    if refusal := access.upload_refusal(actor, project):
        raise refusal
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    if not data:
        raise Invalid(_("The file is empty."), fields={"file": _("The file is empty.")})
    if len(data) > limit:
        message = _("The file is larger than %(mb)s MB.", mb=limit // (1024 * 1024))
        raise Invalid(message, fields={"file": message})
    content_type = detect_type(data)
    if content_type is None:
        message = _("Only PDF, PNG and JPEG files are accepted (checked by their content).")
        raise Invalid(message, fields={"file": message})
    _within_quota(project, len(data))
    key = uuid.uuid4().hex
    attachment = Attachment(public_id=uuid.uuid4(), project_id=project.id, kind=kind,
                            filename=stored_name(filename, content_type),
                            content_type=content_type,
                            size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                            storage_key=key, uploaded_by_id=actor.id, uploaded_at=utcnow())

    def attach(_state, changes) -> dict:
        changes.add(attachment)
        return {"file": attachment.filename, "kind": str(kind), "sha256": attachment.sha256}

    file_store().save(key, data)
    try:
        workflows().record(project, ATTACH, actor, version=None, change=attach)
    except Exception:
        file_store().delete(key)  # no orphan bytes when the record could not be written
        raise
    return db.session.scalar(select(Attachment).where(Attachment.public_id == attachment.public_id))


def _within_quota(project: Project, size: int) -> None:
    count, total = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Attachment.size), 0))
        .where(Attachment.project_id == project.id)).one()
    most = current_app.config["ATTACHMENT_MAX_COUNT"]
    if count + 1 > most:
        message = _("A project holds at most %(n)s files; delete one first.", n=most)
        raise Invalid(message, fields={"file": message})
    budget = current_app.config["ATTACHMENT_MAX_PROJECT_BYTES"]
    if total + size > budget:
        message = _("The files of a project may take at most %(mb)s MB together; "
                    "%(left)s MB are left.", mb=_megabytes(budget),
                    left=_megabytes(max(budget - total, 0)))
        raise Invalid(message, fields={"file": message})


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def delete(actor: User, project: Project, public_id: str) -> None:
    """Take a file away: an audit-only step ('detach') keeping the file's name and digest in
    the trail; the bytes go once the step is written."""
    attachment = find(actor, project, public_id)
    if refusal := access.delete_attachment_refusal(actor, project, attachment):
        raise refusal
    key = attachment.storage_key

    def detach(_state, changes) -> dict:
        changes.remove(attachment)
        return {"file": attachment.filename, "kind": str(attachment.kind),
                "sha256": attachment.sha256}

    workflows().record(project, DETACH, actor, version=None, change=detach)
    file_store().delete(key)


def attachments_of(project: Project) -> list[Attachment]:
    return list(db.session.scalars(select(Attachment).where(Attachment.project_id == project.id)
                                   .order_by(Attachment.id)))


def find(user: User, project: Project, public_id: str) -> Attachment:
    """The project's attachment if `user` may see the project; NotFound otherwise."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound(_("No such file.")) from None
    attachment = db.session.scalar(select(Attachment).where(
        Attachment.public_id == key, Attachment.project_id == project.id))
    if attachment is None or not access.can_see(user, project):
        raise NotFound(_("No such file."))
    return attachment
