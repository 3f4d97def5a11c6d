"""Reading and writing a project's declared values (shared by editing and change filing)."""

from decimal import Decimal

from sqlalchemy import select

from ..errors import Invalid
from ..extensions import db
from ..i18n import gettext as _
from ..labels import key_industries
from ..models import (
    EquipmentItem,
    EquipmentKind,
    Jurisdiction,
    Level,
    Organization,
    OrgKind,
    Project,
    ancestor_codes,
)
from ..validation import jsonable
from .money import format_wan, to_yuan
from .project_input import ProjectFields, ProjectPatch

SCALARS = tuple(name for name in ProjectFields.model_fields
                if name not in ("jurisdiction", "equipment"))


def current_values(project: Project) -> dict:
    values = {name: getattr(project, name) for name in SCALARS}
    values["jurisdiction"] = project.jurisdiction_code
    return values


EQUIPMENT_KEYS = ("kind", "name", "model", "quantity", "unit_price", "years_in_service",
                  "energy_grade")


def equipment_values(project: Project) -> list[dict]:
    return [{key: getattr(item, key) for key in EQUIPMENT_KEYS} for item in project.equipment]


def values_before(project: Project, changes: dict) -> dict:
    """The values (as JSON) that `changes` would replace — only of the fields it changes.
    An edit's audit event keeps them beside the new values, so a reader of the trail sees
    each change old → new (a resubmission after a return, a change filing)."""
    now = jsonable({**current_values(project), "equipment": equipment_values(project)})
    new = jsonable(changes)
    if "equipment" in new and new["equipment"] is not None:
        new["equipment"] = [{key: row.get(key) for key in EQUIPMENT_KEYS}
                            for row in new["equipment"]]
    return {name: now.get(name) for name, value in new.items()
            if name in now and _differs(now.get(name), value)}


def _differs(old, new) -> bool:
    """Whether two JSON values differ as values (600 and "600.0000" do not)."""
    try:
        return Decimal(str(old)) != Decimal(str(new))
    except (ArithmeticError, ValueError, TypeError):
        pass
    if isinstance(old, list) and isinstance(new, list):
        return len(old) != len(new) or any(
            any(_differs(a.get(k), b.get(k)) for k in EQUIPMENT_KEYS)
            for a, b in zip(old, new, strict=True))
    return (old if old != "" else None) != (new if new != "" else None)


def new_equipment_subtotal(rows: list[dict]) -> Decimal | None:
    """Quantity × unit price added up over the rows of equipment to buy; None when no such
    row has both."""
    priced = [Decimal(row["quantity"]) * Decimal(row["unit_price"]) for row in rows
              if str(row.get("kind")) == EquipmentKind.NEW.value
              and row.get("quantity") and row.get("unit_price") is not None]
    return sum(priced, Decimal(0)) if priced else None


def equipment_total_problem(equipment_investment, rows: list[dict]) -> str | None:
    """Why the equipment rows do not add up to 设备投资, or None.

    No document sets a tolerance between the listed equipment and the declared equipment
    investment, so they must agree exactly to what is stored: 0.0001 万元 (one yuan, see
    rules/money.py). Checked where both are known: a declaration with no priced row of new
    equipment, or no equipment investment yet, is not checked (a draft half-filled)."""
    subtotal = new_equipment_subtotal(rows)
    if subtotal is None or equipment_investment is None:
        return None
    if to_yuan(subtotal) == to_yuan(Decimal(equipment_investment)):
        return None
    return _("The equipment to buy adds up to %(subtotal)s (10k yuan), but the equipment "
             "investment is %(investment)s: correct one of them.",
             subtotal=format_wan(subtotal), investment=format_wan(Decimal(equipment_investment)))


def field_changes(project, values: dict) -> dict:
    """Each field `values` changes on `project`, with its old and new value as the audit
    event keeps them (JSON): {field: {"old": …, "new": …}}; fields set to what they were are
    left out."""
    before = current_values(project)
    found = {}
    for name, new in values.items():
        if name == "equipment":
            if new is None:
                continue
            old = [{key: getattr(item, key) for key in EQUIPMENT_KEYS} for item in db.session.scalars(
                select(EquipmentItem).where(EquipmentItem.project_id == project.id)
                .order_by(EquipmentItem.position))]
            new = [{key: item.get(key) for key in EQUIPMENT_KEYS} for item in new]
        elif name == "enterprise_credit_code":
            old = db.session.get(Organization, project.enterprise_id).credit_code
        else:
            old = before.get(name)
        old, new = jsonable(old), jsonable(new)
        if old != new:
            found[name] = {"old": old, "new": new}
    return found


def check_values(values: dict, *, code_follows_location: bool = True) -> None:
    """Rules across fields and against the database; all problems reported at once.

    A filed project keeps its project code when a change filing moves it, so the code's
    region is checked against the location only before filing.
    """
    errors: dict[str, str] = {}
    total = values.get("total_investment")
    for part in ("fixed_asset_investment", "equipment_investment", "annual_investment"):
        value = values.get(part)
        if total is not None and value is not None and value > total:
            errors[part] = _("Cannot exceed total investment.")
    start, end = values.get("planned_start"), values.get("planned_end")
    if start and end and end < start:
        errors["planned_end"] = _("Completion cannot precede the start.")
    industry = values.get("industry")
    if industry and industry not in key_industries():
        errors["industry"] = _("Not a key industry; choose one from the list.")
    code = values.get("jurisdiction")
    place = db.session.get(Jurisdiction, code) if code else None
    if code and (place is None or place.level != Level.COUNTY):
        errors["jurisdiction"] = _("Not a known county-level jurisdiction code.")
    project_code = values.get("project_code")
    if (code_follows_location and project_code and code and "jurisdiction" not in errors
            and project_code[5:11] not in ancestor_codes(code)):
        errors["project_code"] = _("Its region segment %(region)s does not match the project's "
                                   "location.", region=project_code[5:11])
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)


def apply_values(project: Project, values: dict) -> None:
    for name in SCALARS:
        if name in values:
            value = values[name]
            setattr(project, name, bool(value) if name == "new_land" else value)
    if "jurisdiction" in values:
        project.jurisdiction_code = values["jurisdiction"]
    if "jurisdiction" in values or "batch_year" in values:
        for deadline in project.deadlines:
            deadline.locate(project)
    if values.get("equipment") is not None:
        items = [EquipmentItem(position=i, **item)
                 for i, item in enumerate(values["equipment"], start=1)]
        project.equipment = items
        project.new_units = sum(item.quantity for item in items if item.kind == EquipmentKind.NEW)
    if values.get("enterprise_credit_code"):
        project.enterprise_id = enterprise_by_credit_code(values["enterprise_credit_code"]).id


def enterprise_by_credit_code(code: str) -> Organization:
    org = db.session.scalar(select(Organization).where(
        Organization.credit_code == code.upper(), Organization.kind == OrgKind.ENTERPRISE))
    if org is None:
        raise Invalid(_("Please correct the marked fields."), fields={
            "enterprise_credit_code": _("No registered enterprise has this code.")})
    return org


def apply_changes(project: Project, changes: dict) -> dict:
    """Apply changes kept as JSON (a change filing's) with their proper types; returns each
    field's old and new value (`field_changes`)."""
    parsed = ProjectPatch.model_validate({**changes, "version": 1}, strict=False)
    values = parsed.model_dump(include=set(changes))
    fields = field_changes(project, values)
    apply_values(project, values)
    return fields
