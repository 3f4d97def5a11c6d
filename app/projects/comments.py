"""The comment thread of a project, open to everyone who may see it."""

from sqlalchemy import select

from .. import access
from ..database import unit_of_work
from ..errors import Invalid, NotFound
from ..extensions import db
from ..i18n import gettext as _
from ..models import Comment, Project, User, utcnow

MAX_LENGTH = 2000


def add_comment(author: User, project: Project, body: str) -> Comment:
    if not access.can_comment(author, project):
        raise NotFound(_("No such project."))
    body = (body or "").strip()
    if not body or len(body) > MAX_LENGTH:
        message = _("Write between 1 and %(n)s characters.", n=MAX_LENGTH)
        raise Invalid(message, fields={"body": message})
    with unit_of_work():
        comment = Comment(project_id=project.id, author_id=author.id, body=body,
                          created_at=utcnow())
        db.session.add(comment)
    return comment


def comments_of(project: Project) -> list[Comment]:
    return list(db.session.scalars(select(Comment).where(Comment.project_id == project.id)
                                   .order_by(Comment.id)))
