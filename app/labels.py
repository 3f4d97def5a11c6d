"""Display names for fields, states, tasks and roles — one place for forms, reasons, exports."""

from functools import cache
from pathlib import Path

from .i18n import lazy_gettext as _l
from .i18n import reader_locale


@cache
def key_industries() -> tuple[str, ...]:
    """The key-industry vocabulary (app/data/industries.txt)."""
    path = Path(__file__).parent / "data" / "industries.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def english() -> bool:
    """Whether the reader reads English (else Chinese, the default)."""
    return str(reader_locale()) == "en"


def book_title(title: str) -> str:
    """A document's title as the reader's typography cites it: 《…》 in Chinese."""
    return title if english() else f"《{title}》"


def join_list(values) -> str:
    """Items joined the reader's way: 、 in Chinese, commas in English."""
    return (", " if english() else "、").join(str(v) for v in values)


def paren(value) -> str:
    """A parenthetical in the reader's typography: （…） in Chinese, (…) in English."""
    return f" ({value})" if english() else f"（{value}）"

FIELD_LABELS = {
    "name": _l("Project name"),
    "jurisdiction": _l("Location (county)"),
    "address": _l("Address"),
    "contact_name": _l("Contact person"),
    "contact_phone": _l("Contact phone"),
    "industry": _l("Key industry"),
    "task": _l("Key task"),
    "batch_year": _l("Batch year"),
    "content": _l("Construction content and scale"),
    "total_investment": _l("Total investment"),
    "fixed_asset_investment": _l("Fixed-asset investment"),
    "equipment_investment": _l("Equipment investment (incl. software)"),
    "retired_equipment_value": _l("Original value of retired equipment"),
    "annual_investment": _l("Planned investment this year"),
    "new_land": _l("Adds new land"),
    "energy_tce": _l("Annual energy use (tce)"),
    "electricity_kwh": _l("Annual electricity use (kWh)"),
    "planned_start": _l("Planned start"),
    "planned_end": _l("Planned completion"),
    "financing_need": _l("Financing need"),
    "financing_term_months": _l("Financing term (months)"),
    "financing_purpose": _l("Use of the loan"),
    "project_code": _l("Project code"),
    "equipment": _l("Equipment"),
    "credit_code": _l("Unified social credit code"),
    "policy_class": _l("Industrial-structure catalogue class"),
}

STATUS_LABELS = {
    "draft": _l("Draft"),
    "declared": _l("Declared"),
    "returned": _l("Returned for correction"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
    "commitment_filing": _l("Commitment filing"),
    "financing_matchmaking": _l("Financing matchmaking"),
    "lead_bank_designated": _l("Lead bank designated"),
    "completed": _l("Completed"),
    "failed": _l("Failed completion verification"),
    "exited": _l("Exited from the library"),
}
# The filing stage of a project that may not file on commitment (it adds land, or is not
# mainly equipment): it follows the ordinary filing route, and its status says so.
ORDINARY_FILING_LABEL = _l("Ordinary filing")


def status_label(status, ordinary_filing: bool = False) -> str:
    """A status's display name; the filing stage named after the route the project takes."""
    status = getattr(status, "value", status)
    if status == "commitment_filing" and ordinary_filing:
        return str(ORDINARY_FILING_LABEL)
    return str(STATUS_LABELS[status])

TASK_LABELS = {
    "advanced_equipment": _l("Advanced equipment renewal"),
    "digital_transformation": _l("Digital transformation"),
    "green_equipment": _l("Green equipment"),
    "intrinsic_safety": _l("Intrinsic safety"),
    "supply_capacity": _l("Supply capacity"),
}

ROLE_LABELS = {
    "enterprise": _l("Enterprise"),
    "bank": _l("Bank"),
    "lead_bank": _l("Lead bank"),
    "operator": _l("System operator"),
    "agency:miit": _l("Industry and information technology department"),
    "agency:ndrc": _l("Development and reform commission"),
    "agency:approval": _l("Administrative approval bureau"),
    "agency:land": _l("Natural resources department"),
    "agency:env": _l("Ecology and environment department"),
    "agency:pboc": _l("People's Bank of China branch"),
    "agency:finance": _l("Financial regulator / finance service centre"),
    "agency:treasury": _l("Finance bureau"),
    "agency:energy": _l("Energy administration"),
}

POLICY_CLASS_LABELS = {
    "encouraged": _l("Encouraged"),
    "permitted": _l("Permitted"),
    "restricted": _l("Restricted"),
    "eliminated": _l("Eliminated"),
}

LEVEL_LABELS = {
    "national": _l("national"),
    "province": _l("province"),
    "city": _l("city"),
    "county": _l("county"),
}

LIST_LABELS = {
    "relending": _l("Technology-innovation and technical-transformation relending list"),
    "provincial_key": _l("Provincial key project list"),
    "city_key": _l("City key project list"),
}

ATTACHMENT_LABELS = {
    "filing_proof": _l("Filing certificate"),
    "commitment_scan": _l("Signed commitment letter (scan)"),
    "equipment_quote": _l("Equipment quotation"),
    "other": _l("Other"),
}

VERDICT_LABELS = {"approve": _l("Agree"), "object": _l("Disagree")}

# What a definition may state or assume about its document.
ASSUMED_LABELS = {"document": _l("Document number"), "effective": _l("Effective date"),
                  "expires": _l("Valid until")}

PROCEDURE_LABELS = {"land": _l("Land use"), "energy": _l("Energy review"),
                    "environment": _l("Environmental assessment")}


# The shared trigger vocabulary's steps (workflow/vocabulary.py), as people read them.
STEP_LABELS = {
    "submit": _l("Submit declaration"),
    "withdraw": _l("Withdraw"),
    "return": _l("Return for correction"),
    "reject": _l("Reject"),
    "recommend": _l("Recommend upward"),
    "accept": _l("Accept into library"),
    "sign_commitment": _l("Sign filing commitment"),
    "record_opinion": _l("Record consultation opinion"),
    "file": _l("Register filing"),
    "approve_change": _l("Register change filing"),
    "refuse_change": _l("Refuse change filing"),
    "whitelist": _l("Add to whitelist"),
    "express_interest": _l("Express interest"),
    "approve_credit": _l("Record credit approval"),
    "sign_contract": _l("Record loan contract"),
    "claim_lead_bank": _l("Claim lead bank"),
    "decline_claim": _l("Decline lead-bank claim"),
    "designate_lead_bank": _l("Designate lead bank"),
    "record_loan": _l("Record loan"),
    "confirm_refinancing": _l("Confirm relending refinancing"),
    "end_matchmaking": _l("End financing matchmaking"),
    "report_completion": _l("Report completion"),
    "verify_completion": _l("Verify completion"),
    "return_completion": _l("Return the completion report"),
    "fail_completion": _l("Fail completion verification"),
    "report_progress": _l("Report monthly progress"),
    "answer_problem": _l("Answer the reported problem"),
    "exit_library": _l("Exit from the library"),
    "defer_batch": _l("Defer to a later batch"),
    "claim_subsidy": _l("Claim subsidy"),
    "return_claim": _l("Return the subsidy claim"),
    "approve_subsidy": _l("Approve subsidy claim"),
    "record_payout": _l("Record subsidy payout"),
    "claw_back": _l("Claw back subsidy"),
    "send_back": _l("Send back to an earlier step"),
    "supply_items": _l("Supply the items to follow"),
}

CLAW_BACK_LABELS = {"failed_acceptance": _l("failed acceptance"),
                    "broken_commitment": _l("commitment broken"),
                    "misuse": _l("funds misused")}

SUBSIDY_STATUS_LABELS = {"submitted": _l("submitted, under review"),
                         "returned": _l("returned for correction"),
                         "approved": _l("approved, awaiting payment"), "paid": _l("paid")}


def step_label(trigger: str) -> str:
    """The display name of a step (trigger or audit-only event)."""
    return str(STEP_LABELS.get(trigger) or EVENT_LABELS.get(trigger, trigger))


# How a timeline entry is marked: sent back, ended, or a milestone reached.
WARN_EVENTS = frozenset({"return", "refuse_change", "decline_claim", "send_back", "items_lapsed"})
DANGER_EVENTS = frozenset({"reject", "withdraw"})
MILESTONE_EVENTS = frozenset({"accept", "file", "designate_lead_bank"})


def event_tone(trigger: str, to_state: str) -> str:
    """The timeline's mark for an event: "warn", "danger", "success" or none."""
    if trigger in WARN_EVENTS:
        return "warn"
    if trigger in DANGER_EVENTS:
        return "danger"
    if to_state == "completed" or trigger in MILESTONE_EVENTS:
        return "success"
    return ""


EVENT_LABELS = {
    "create": _l("Created the draft"),
    "edit": _l("Edited"),
    "request_change": _l("Requested a change filing"),
    "set_intended_banks": _l("Named intended banks"),
    "import": _l("Entered from an offline declaration"),
    "attach": _l("Added a file"),
    "detach": _l("Deleted a file"),
    "remind": _l("Reminded: the time limit is near"),
    "escalate": _l("Escalated: the time limit has passed"),
    "warn_stalled": _l("Warned: progress reports missed or no start"),
    "claim_step": _l("Claimed a step"),
    "release_step": _l("Released a step"),
    "reassign_step": _l("Reassigned a step"),
    "migrate_workflow": _l("Moved onto a new version of its policy document's rules"),
    "items_lapsed": _l("Returned: items to follow not supplied by their due day"),
}

DESIGNATION_LABELS = {
    "key_list": _l("Provincial key project"), "smart_factory": _l("Smart factory"),
    "digital_workshop": _l("Digital workshop"), "green_factory": _l("Green factory"),
    "robot_substitution": _l("Robot substitution"),
    "typical_case": _l("Typical case"),
}

STALL_LABELS = {"stalled": _l("three monthly reports missed"),
                "lapsed": _l("not started within two years of filing")}

CLAIM_LABELS = {"open": _l("claim awaiting decision"), "declined": _l("claim declined"),
                "designated": _l("designated lead bank")}

IMPORT_LABELS = {"queued": _l("Waiting"), "running": _l("In progress"), "failed": _l("Refused"),
                 "done": _l("Imported")}

# Each input a step asks for, named as its form field is (errors cite it by this name).
INPUT_LABELS = {
    "comment": _l("Comment"),
    "commitment_accepted": _l("I have read the commitment letter and accept it"),
    "filing_number": _l("Filing number"),
    "project_code": _l("Project code (if the project has none yet)"),
    "list": _l("List"),
    "batch": _l("Batch"),
    "amount": _l("Amount (10k yuan)"),
    "approved_on": _l("Credit approved on"),
    "signed_on": _l("Contract signed on"),
    "contract_number": _l("Contract number"),
    "term_months": _l("Term (months)"),
    "other_subsidy": _l("Another programme already subsidises this loan's interest"),
    "loan": _l("Loan"),
    "refinanced_on": _l("Refinanced on"),
    "drawdown_date": _l("Drawdown date"),
    "supplier_paid_date": _l("Date paid to the equipment supplier"),
    "actual_total_investment": _l("Actual total investment (10k yuan)"),
    "actual_equipment_investment": _l("Actual equipment investment (10k yuan)"),
    "completed_on": _l("Completed on"),
    "checked_total_investment": _l("Total investment as checked (10k yuan)"),
    "checked_equipment_investment": _l("Equipment investment as checked (10k yuan)"),
    "equipment_delivered": _l("All declared new equipment delivered and installed"),
    "retired_disposed": _l("The equipment to be retired has been disposed of"),
    "energy_grades": _l("Energy-efficiency grade of each new machine, as checked"),
    "opinion": _l("Outcome"),
    "reference": _l("Document number (文号)"),
    "decided_on": _l("Decided on"),
    "month": _l("Month reported"),
    "actual_start_on": _l("Actual start of construction"),
    "investment_completed": _l("Investment completed to date (10k yuan)"),
    "percent_complete": _l("Percent complete"),
    "equipment_installed": _l("Declared new equipment installed (date)"),
    "problems": _l("Problems needing coordination"),
    "batch_year": _l("Later batch (year)"),
    "period": _l("Quarter claimed (e.g. 2025Q3)"),
    "claim": _l("Subsidy claim"),
    "paid_on": _l("Paid on"),
    "voucher": _l("Payment voucher number"),
    "ground": _l("Ground"),
    "to": _l("Send back to"),
    "items_to_follow": _l("Items to follow (one missing document a line)"),
    "commitment": _l("The enterprise's written commitment (reference)"),
    "items": _l("Items supplied (one a line)"),
}

# The steps a project may be sent back to (驳回到指定环节).
SEND_BACK_LABELS = {"recommend": _l("County review and recommendation"),
                    "accept": _l("Acceptance into the library"),
                    "file": _l("Filing")}


def input_label(key: str) -> str:
    return str(INPUT_LABELS[key]) if key in INPUT_LABELS else key
