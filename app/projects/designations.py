"""Key and demonstration projects (重点项目、示范标杆、典型案例): the accepting agency's tags on a
project, independent of its financing, each change an audited step of the project. The
provincial key list takes projects of at least the practice threshold (≥ 2,000 万元)."""

from datetime import date

from sqlalchemy import select

from .. import access
from ..errors import Invalid
from ..extensions import db
from ..i18n import gettext as _
from ..models import Designation, DesignationTag, Project, User, china_today, utcnow
from ..rules.money import format_wan
from ..rules.parameters import parameter
from ..workflow import workflows
from ..workflow.changeset import Delete, Insert
from ..workflow.vocabulary import DESIGNATE


def tags_of(project: Project) -> list[str]:
    return sorted(t.value for t in db.session.scalars(select(Designation.tag).where(
        Designation.project_id == project.id)))


def designate(actor: User, project: Project, tags: set[str], comment: str | None = None,
              today: date | None = None) -> list[str]:
    """Set the project's tags to `tags`; returns them. Refused (422) for an unknown tag, or
    the key list for a project below the threshold."""
    today = today or china_today()
    if refusal := access.designate_refusal(actor, project):
        raise refusal
    known = {t.value for t in DesignationTag}
    if unknown := sorted(tags - known):
        raise Invalid(_("Unknown designation: %(tags)s.", tags=", ".join(unknown)),
                      fields={"tags": _("Unknown designation.")})
    if DesignationTag.KEY_LIST.value in tags:
        floor = parameter("key_list_min_investment", today, project.jurisdiction_code)
        if (project.total_investment or 0) < floor:
            raise Invalid(_("The provincial key list takes projects of at least %(floor)s "
                            "10k yuan (practice); this one totals %(total)s.",
                            floor=format_wan(floor),
                            total=format_wan(project.total_investment or 0)),
                          fields={"tags": _("Below the key list's threshold.")})
    before = set(tags_of(project))
    added, removed = sorted(tags - before), sorted(before - tags)

    def change(state, changes) -> dict:
        table = Designation.__table__
        for tag in added:
            changes.writes.append(Insert(table, {
                "project_id": state.id, "tag": tag, "jurisdiction_code": state.jurisdiction_code,
                "province_code": state.province_code, "city_code": state.city_code,
                "designated_by_id": actor.id, "designated_at": utcnow()}))
        for tag in removed:
            changes.writes.append(Delete(table, {"project_id": state.id, "tag": tag}))
        return {"added": added, "removed": removed, "comment": comment}

    if added or removed:
        workflows().record(project, DESIGNATE, actor, version=None, change=change, today=today)
    return sorted(tags)
