"""How each workflow input is asked for in the browser, and read back from a posted form."""

from decimal import Decimal, InvalidOperation

from ..labels import (
    CLAW_BACK_LABELS,
    INPUT_LABELS,
    LIST_LABELS,
    SEND_BACK_LABELS,
    VERDICT_LABELS,
)
from ..workflow.vocabulary import TRIGGERS

# input key -> (widget, label, choices)
INPUTS = {
    "comment": ("textarea", INPUT_LABELS["comment"], None),
    "commitment_accepted": ("checkbox", INPUT_LABELS["commitment_accepted"], None),
    "filing_number": ("text", INPUT_LABELS["filing_number"], None),
    "project_code": ("text", INPUT_LABELS["project_code"], None),
    "list": ("select", INPUT_LABELS["list"], LIST_LABELS),
    "batch": ("text", INPUT_LABELS["batch"], None),
    "amount": ("amount", INPUT_LABELS["amount"], None),
    "approved_on": ("date", INPUT_LABELS["approved_on"], None),
    "signed_on": ("date", INPUT_LABELS["signed_on"], None),
    "contract_number": ("text", INPUT_LABELS["contract_number"], None),
    "term_months": ("text", INPUT_LABELS["term_months"], None),
    "other_subsidy": ("checkbox", INPUT_LABELS["other_subsidy"], None),
    "loan": ("loan", INPUT_LABELS["loan"], None),
    "refinanced_on": ("date", INPUT_LABELS["refinanced_on"], None),
    "drawdown_date": ("date", INPUT_LABELS["drawdown_date"], None),
    "supplier_paid_date": ("date", INPUT_LABELS["supplier_paid_date"], None),
    "actual_total_investment": ("amount", INPUT_LABELS["actual_total_investment"], None),
    "actual_equipment_investment": ("amount", INPUT_LABELS["actual_equipment_investment"], None),
    "completed_on": ("date", INPUT_LABELS["completed_on"], None),
    "checked_total_investment": ("amount", INPUT_LABELS["checked_total_investment"], None),
    "checked_equipment_investment": ("amount", INPUT_LABELS["checked_equipment_investment"], None),
    "equipment_delivered": ("checkbox", INPUT_LABELS["equipment_delivered"], None),
    "retired_disposed": ("checkbox", INPUT_LABELS["retired_disposed"], None),
    "energy_grades": ("grades", INPUT_LABELS["energy_grades"], None),
    "opinion": ("select", INPUT_LABELS["opinion"], VERDICT_LABELS),
    "reference": ("text", INPUT_LABELS["reference"], None),
    "decided_on": ("date", INPUT_LABELS["decided_on"], None),
    "month": ("month", INPUT_LABELS["month"], None),
    "actual_start_on": ("date", INPUT_LABELS["actual_start_on"], None),
    "investment_completed": ("amount", INPUT_LABELS["investment_completed"], None),
    "percent_complete": ("text", INPUT_LABELS["percent_complete"], None),
    "equipment_installed": ("installed", INPUT_LABELS["equipment_installed"], None),
    "problems": ("textarea", INPUT_LABELS["problems"], None),
    "batch_year": ("text", INPUT_LABELS["batch_year"], None),
    "period": ("text", INPUT_LABELS["period"], None),
    "claim": ("claim", INPUT_LABELS["claim"], None),
    "paid_on": ("date", INPUT_LABELS["paid_on"], None),
    "voucher": ("text", INPUT_LABELS["voucher"], None),
    "ground": ("select", INPUT_LABELS["ground"], CLAW_BACK_LABELS),
    "to": ("select", INPUT_LABELS["to"], SEND_BACK_LABELS),
    "items_to_follow": ("lines", INPUT_LABELS["items_to_follow"], None),
    "commitment": ("text", INPUT_LABELS["commitment"], None),
    "items": ("lines", INPUT_LABELS["items"], None),
}
# Inputs only a transition that allows them asks for (容缺受理 where the definition has it).
OPTIONAL_BY_SPEC = {"items_to_follow": "items_to_follow", "commitment": "items_to_follow"}


def inputs_for(trigger: str, spec=None) -> list[tuple[str, str, object, object]]:
    """(key, widget, label, choices) for each input the trigger takes — as `spec`, the
    definition's transition, asks for them (a send-back's own targets, 容缺 where allowed)."""
    found = []
    for key in TRIGGERS[trigger].inputs:
        widget, label, choices = INPUTS[key]
        if spec is not None and key in OPTIONAL_BY_SPEC and not getattr(
                spec, OPTIONAL_BY_SPEC[key]):
            continue
        if spec is not None and key == "to":
            choices = {t: SEND_BACK_LABELS[t] for t in spec.send_back_to}
        found.append((key, widget, label, choices))
    return found


def read_inputs(trigger: str, form) -> tuple[str | None, dict]:
    """The comment and the data dict from a posted action form (blanks left out)."""
    data = {}
    for key, widget, _label, _choices in inputs_for(trigger):
        if key == "comment":
            continue
        if widget == "installed":  # one date per new equipment row: installed-<position>
            installed = {name.removeprefix("installed-"): value.strip()
                         for name, value in form.items()
                         if name.startswith("installed-") and value.strip()}
            if installed:
                data[key] = installed
            continue
        if widget == "grades":  # one select per equipment row: grade-<position>
            grades = {name.removeprefix("grade-"): int(value) for name, value in form.items()
                      if name.startswith("grade-") and value.isdigit()}
            if grades:
                data[key] = grades
            continue
        raw = (form.get(key) or "").strip()
        if widget == "lines":
            lines = [line.strip() for line in raw.splitlines() if line.strip()]
            if lines:
                data[key] = lines
            continue
        if widget == "checkbox":
            if raw:
                data[key] = True
        elif raw:
            data[key] = _amount(raw) if widget == "amount" else raw
    return (form.get("comment") or "").strip() or None, data


def _amount(raw: str):
    try:
        return Decimal(raw.replace(",", "").replace("，", ""))
    except InvalidOperation:
        return raw  # left for the engine's validation to name
