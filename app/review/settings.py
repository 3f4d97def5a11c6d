"""Local settings: the numbers an agency sets for its own jurisdiction.

The documents set no time limits, no batch cut-off dates and no share for "以设备更新为主";
the definitions and parameter file hold defaults marked `local`, each owned by an agency role.
An agency of that role sets its own value here, in force from a date it names; every value
set stays on record with who set it and when (rules/settings.py reads them).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from .. import access
from ..database import unit_of_work
from ..errors import Invalid
from ..extensions import db
from ..i18n import gettext as _
from ..models import LocalSetting, User, utcnow
from ..rules import settings as local
from ..rules.guards import batch_cutoff
from ..rules.money import MAX_AMOUNT
from ..rules.parameters import figure, in_force
from ..workflow import workflows
from ..workflow.definitions import OPTIONAL_NUMBERS
from ..workflow.render import basis_text, number_text

BATCH = "batch_cutoff"
OWNER_OF_BATCHES = "agency:miit"  # the library agency (工信) closes its batches
FIRST_BATCH = 2024  # the documents' first year


@dataclass
class SettingRow:
    key: str
    label: str
    unit: str  # working_days | share | years | days | wan | date
    value: str  # as shown
    basis: str  # where the value in force comes from, in words
    owner: str
    may_set: bool


def settings_for(user: User, today: date) -> list[SettingRow]:
    """The local settings that apply in the user's jurisdiction, under the document in force
    there: its time limits, the parameters agencies read locally, and batch cut-off dates."""
    place = user.organization.jurisdiction_code
    definition = workflows().resolve(place, today)
    rows = []
    for setting in definition.settings.values():
        key = f"time_limit:{setting.name}"
        found = local.resolve(key, setting.days, setting.basis, place, today, int)
        rows.append(_row(user, key, setting.label, "working_days", found, definition))
    for entry in in_force(today, place):
        if entry.basis.kind == "local":
            rows.append(_row(user, entry.name, entry.label, "share",
                             figure(entry.name, today, place), definition))
    for programme in definition.programmes:  # the numbers a programme's agency enters
        for number in programme.numbers.values():
            if number.basis is None:
                continue  # a dated parameter, listed above where local
            key = number.key(programme.key)
            found = local.resolve(key, None, number.basis, place, today,
                                  int if number.unit in ("years", "days") else Decimal)
            row = _row(user, key, f"{programme.label}：{number.label}", number.unit,
                       found, definition)
            if found.value is None and number.name in OPTIONAL_NUMBERS:
                row.value = _("not set: no cap applies") if number.unit == "wan" else \
                    _("not set: no deadline applies")
            elif found.value is None:
                row.value = _("not set: claims wait until the agency sets it")
            rows.append(row)
    for year in range(FIRST_BATCH, today.year + 2):
        set_ = batch_cutoff(year, place, today)
        basis = local.Basis("local", owner=OWNER_OF_BATCHES)
        rows.append(SettingRow(
            key=f"{BATCH}:{year}", label=_("Cut-off date of the %(year)s batch", year=year),
            unit="date", value=set_.value if set_ else _("not set: the batch stays open"),
            basis=basis_text(basis, definition, local.Figure(None, basis, set_)),
            owner=OWNER_OF_BATCHES, may_set=access.can_set_local(user, OWNER_OF_BATCHES)))
    return rows


def _row(user, key, label, unit, found, definition) -> SettingRow:
    return SettingRow(key=key, label=label, unit=unit, value=(number_text(found.value, unit)
                                                           if found.value is not None else ""),
                      basis=basis_text(found.basis, definition, found),
                      owner=found.basis.owner or "",
                      may_set=found.basis.kind == "local"
                      and access.can_set_local(user, found.basis.owner))


def set_value(user: User, key: str, raw: str, effective_on: date | None,
              today: date) -> LocalSetting:
    """Record the agency's own value for `key` in its jurisdiction."""
    row = next((r for r in settings_for(user, today) if r.key == key), None)
    if row is None:
        raise Invalid(_("No such setting."), fields={"key": _("No such setting.")})
    if refusal := access.local_setting_refusal(user, row.owner):
        raise refusal
    value = _parse(row.unit, (raw or "").strip())
    with unit_of_work():
        setting = LocalSetting(key=key, jurisdiction_code=user.organization.jurisdiction_code,
                               value=value, effective_on=effective_on or today,
                               set_by_id=user.id, set_by_org_name=user.organization.name,
                               set_at=utcnow())
        db.session.add(setting)
    local.forget()
    return setting


def _parse(unit: str, raw: str) -> str:
    """The value as stored (text), or Invalid naming what is wrong."""
    try:
        if unit == "working_days":
            days = int(raw)
            if not 1 <= days <= 365:
                raise ValueError
            return str(days)
        if unit == "share":
            share = Decimal(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
            if not 0 < share <= 1:
                raise ValueError
            return str(share.normalize())
        if unit == "years":
            years = int(raw)
            if not 1 <= years <= 30:
                raise ValueError
            return str(years)
        if unit == "days":
            days = int(raw)
            if not 1 <= days <= 365:
                raise ValueError
            return str(days)
        if unit == "wan":
            amount = Decimal(raw.replace(",", ""))
            if not 0 < amount <= MAX_AMOUNT or amount != amount.quantize(Decimal("0.0001")):
                raise ValueError
            return str(amount.normalize())
        return date.fromisoformat(raw).isoformat()
    except (ValueError, InvalidOperation):
        message = {"working_days": _("A whole number of working days from 1 to 365."),
                   "share": _("A share between 0 and 100%."),
                   "years": _("A whole number of years from 1 to 30."),
                   "days": _("A whole number of days from 1 to 365."),
                   "wan": _("An amount in 10k yuan, up to four decimals."),
                   "date": _("A date.")}[unit]
        raise Invalid(message, fields={"value": message}) from None
