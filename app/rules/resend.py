"""Sending a project back to an earlier agency step (驳回到指定环节), and the documents an
agency accepted a declaration without (容缺受理).

A send-back names the step the project goes back to; that step and the steps after it are
undone — except those the definition marks `keep_on_resend`, which stand and are not taken
again — so the project resumes at the step named and is owed as before. Items to follow are
kept on the project one a line; the enterprise owes them by their due day, after which the
daily check returns the project (app/review/items.py).
"""

from datetime import date

from ..i18n import format_day
from ..i18n import gettext as _
from ..labels import SEND_BACK_LABELS, join_list
from .calendar import add_working_days
from .context import RuleContext, guard
from .settings import resolve

# The steps a send-back may undo, in the order they are taken, with what records each.
RESEND_ORDER = ("recommend", "accept", "sign_commitment", "file")
MARKS = {"recommend": ("recommended_at",), "accept": ("accepted_at",),
         "sign_commitment": ("commitment_signed_at",), "file": ("filing_number", "filed_at")}
ITEM_FIELDS = ("items_to_follow", "items_due_on", "items_commitment")


def taken(project, step: str) -> bool:
    return getattr(project, MARKS[step][0]) is not None


def kept_on_resend(definition, step: str) -> bool:
    return any(t.keep_on_resend for t in definition.transitions_for(step))


def undo_from(project, definition, target: str) -> list[str]:
    """Undo `target` and the steps after it that the definition does not keep; the steps
    undone, in order (the accepted items to follow go with the acceptance)."""
    undone = []
    for step in RESEND_ORDER[RESEND_ORDER.index(target):]:
        if step != target and kept_on_resend(definition, step):
            continue
        if not taken(project, step):
            continue
        for name in MARKS[step]:
            setattr(project, name, None)
        if step == "accept":
            clear_items(project)
        undone.append(step)
    return undone


def review_again(project) -> None:
    """Back to the enterprise: the review starts again from the beginning."""
    for names in MARKS.values():
        for name in names:
            setattr(project, name, None)
    clear_items(project)


def send_back_spec(ctx: RuleContext):
    """The send-back transition being judged (by the acting role, from the status)."""
    status = ctx.project.status.value
    return next((t for t in ctx.definition.transitions_for("send_back")
                 if t.role == ctx.acting_role and status in t.sources), None)


def send_back_target(ctx: RuleContext) -> str | None:
    spec = send_back_spec(ctx)
    if spec is None:
        return None
    return ctx.data.get("to") or spec.send_back_to[0]


@guard("send_back_target")
def _send_back_target(ctx: RuleContext):
    spec = send_back_spec(ctx)
    if spec is None:
        return None
    target = send_back_target(ctx)
    if target not in spec.send_back_to:
        return _("This step may send the project back only to: %(steps)s.",
                 steps=join_list(SEND_BACK_LABELS[t] for t in spec.send_back_to))
    if not ctx.probing and not taken(ctx.project, target):
        return _("“%(step)s” has not been done yet, so the project cannot be sent back to it.",
                 step=SEND_BACK_LABELS[target])
    if ctx.probing and not any(taken(ctx.project, t) for t in spec.send_back_to):
        return _("No earlier step to send the project back to has been done yet.")
    return None


# -- items to follow (容缺受理) -------------------------------------------------------------


def items_of(project) -> list[str]:
    return [line for line in (project.items_to_follow or "").split("\n") if line]


def clear_items(project) -> None:
    for name in ITEM_FIELDS:
        if getattr(project, name) is not None:
            setattr(project, name, None)


def items_setting(ctx: RuleContext):
    spec = next((t for t in ctx.definition.transitions_for("accept")
                 if t.role == ctx.acting_role and t.items_to_follow), None)
    return ctx.definition.settings[spec.items_to_follow] if spec else None


def items_due_on(setting, place: str, today: date) -> date:
    """The due day: the agency's number of working days (a local setting) from acceptance."""
    days = resolve(f"time_limit:{setting.name}", setting.days, setting.basis, place, today, int)
    return add_working_days(today, int(days.value))


@guard("items_to_follow_allowed")
def _items_to_follow_allowed(ctx: RuleContext):
    if ctx.probing or not (ctx.data.get("items_to_follow") or ctx.data.get("commitment")):
        return None
    if items_setting(ctx) is None:
        return _("This document provides no acceptance with items to follow.")
    if not ctx.data.get("items_to_follow") or not ctx.data.get("commitment"):
        return _("Acceptance with items to follow names the missing documents and the "
                 "enterprise's written commitment to supply them.")
    return None


@guard("items_outstanding")
def _items_outstanding(ctx: RuleContext):
    owed = items_of(ctx.project)
    if not owed:
        return _("No items to follow are outstanding.")
    unknown = [item for item in ctx.data.get("items") or () if item not in owed]
    if unknown:
        return _("Not among the items to follow: %(items)s (outstanding: %(owed)s).",
                 items=join_list(unknown), owed=join_list(owed))
    return None


def items_overdue(project, today: date) -> bool:
    return bool(items_of(project)) and project.items_due_on is not None \
        and project.items_due_on < today


def overdue_reason(project) -> str:
    return _("Items to follow not supplied by %(day)s: %(items)s.",
             day=format_day(project.items_due_on), items=join_list(items_of(project)))
