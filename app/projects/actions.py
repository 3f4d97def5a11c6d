"""How each workflow input is asked for in the browser, and read back from a posted form."""

from decimal import Decimal, InvalidOperation

from ..i18n import lazy_gettext as _l
from ..labels import CLAW_BACK_LABELS, LIST_LABELS, VERDICT_LABELS
from ..workflow.vocabulary import TRIGGERS

# input key -> (widget, label, choices)
INPUTS = {
    "comment": ("textarea", _l("Comment"), None),
    "commitment_accepted": ("checkbox", _l("I have read the commitment letter and accept it"), None),
    "filing_number": ("text", _l("Filing number"), None),
    "project_code": ("text", _l("Project code (if the project has none yet)"), None),
    "list": ("select", _l("List"), LIST_LABELS),
    "batch": ("text", _l("Batch"), None),
    "amount": ("amount", _l("Amount (10k yuan)"), None),
    "approved_on": ("date", _l("Credit approved on"), None),
    "signed_on": ("date", _l("Contract signed on"), None),
    "contract_number": ("text", _l("Contract number"), None),
    "term_months": ("text", _l("Term (months)"), None),
    "other_subsidy": ("checkbox", _l("Another programme already subsidises this loan's interest"),
                      None),
    "loan": ("loan", _l("Loan"), None),
    "refinanced_on": ("date", _l("Refinanced on"), None),
    "drawdown_date": ("date", _l("Drawdown date"), None),
    "supplier_paid_date": ("date", _l("Date paid to the equipment supplier"), None),
    "actual_total_investment": ("amount", _l("Actual total investment (10k yuan)"), None),
    "actual_equipment_investment": ("amount", _l("Actual equipment investment (10k yuan)"),
                                    None),
    "completed_on": ("date", _l("Completed on"), None),
    "checked_total_investment": ("amount", _l("Total investment as checked (10k yuan)"), None),
    "checked_equipment_investment": ("amount", _l("Equipment investment as checked (10k yuan)"),
                                     None),
    "equipment_delivered": ("checkbox", _l("All declared new equipment delivered and installed"),
                            None),
    "retired_disposed": ("checkbox", _l("The equipment to be retired has been disposed of"), None),
    "energy_grades": ("grades", _l("Energy-efficiency grade of each new machine, as checked"),
                      None),
    "opinion": ("select", _l("Outcome"), VERDICT_LABELS),
    "reference": ("text", _l("Document number (文号)"), None),
    "decided_on": ("date", _l("Decided on"), None),
    "period": ("text", _l("Quarter claimed (e.g. 2025Q3)"), None),
    "claim": ("claim", _l("Subsidy claim"), None),
    "paid_on": ("date", _l("Paid on"), None),
    "voucher": ("text", _l("Payment voucher number"), None),
    "ground": ("select", _l("Ground"), CLAW_BACK_LABELS),
}


def inputs_for(trigger: str) -> list[tuple[str, str, object, object]]:
    """(key, widget, label, choices) for each input the trigger takes."""
    return [(key, *INPUTS[key]) for key in TRIGGERS[trigger].inputs]


def read_inputs(trigger: str, form) -> tuple[str | None, dict]:
    """The comment and the data dict from a posted action form (blanks left out)."""
    data = {}
    for key, widget, _label, _choices in inputs_for(trigger):
        if key == "comment":
            continue
        if widget == "grades":  # one select per equipment row: grade-<position>
            grades = {name.removeprefix("grade-"): int(value) for name, value in form.items()
                      if name.startswith("grade-") and value.isdigit()}
            if grades:
                data[key] = grades
            continue
        raw = (form.get(key) or "").strip()
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
